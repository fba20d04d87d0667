"""What a cancelled registration gives back (pure rules, no I/O).

The rule (docs/ARCHITECTURE.md, "Cancelling a paid registration"): each installment of an
order is shared among the order's lines in proportion to their prices, to the cent (largest
remainder, ties to the earlier line). Cancelling a line refunds its share of every installment
already paid — the amount actually paid for that line, pro rata when the order is paid in two
installments — and removes its share from every installment still to come (shared among the
lines still registered); an installment left at 0 $ is cancelled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


def allocate(amount_cents: int, weights: Sequence[int]) -> list[int]:
    """Split `amount_cents` in proportion to `weights`; the parts add up to it exactly.

    >>> allocate(10000, [9500, 4000])
    [7037, 2963]
    """
    if not weights:
        return []
    if amount_cents < 0 or any(w < 0 for w in weights):
        raise ValueError("amounts and weights must not be negative")
    total = sum(weights)
    if total == 0:
        weights, total = [1] * len(weights), len(weights)
    parts = [amount_cents * w // total for w in weights]
    remainders = sorted(
        range(len(weights)), key=lambda i: (-(amount_cents * weights[i] % total), i)
    )
    for i in remainders[: amount_cents - sum(parts)]:
        parts[i] += 1
    return parts


@dataclass(frozen=True)
class OrderLine:
    id: int
    price_cents: int
    live: bool  # still registered (the line being cancelled counts as live here)


@dataclass(frozen=True)
class OrderInstallment:
    id: int
    amount_cents: int
    paid: bool  # captured (a refund gives back part of it); otherwise still to come


@dataclass(frozen=True)
class CancellationPlan:
    refunds: dict[int, int]  # installment id -> cents refunded from its charge
    reductions: dict[int, int]  # installment id -> cents removed from what is still due

    @property
    def refund_cents(self) -> int:
        return sum(self.refunds.values())


def cancellation_plan(
    line_id: int, lines: Sequence[OrderLine], installments: Sequence[OrderInstallment]
) -> CancellationPlan:
    """What cancelling `line_id` refunds and removes, installment by installment.

    A paid installment is shared among every line of the order (what each line paid is fixed
    once paid); an installment still due is shared among the lines still registered (earlier
    cancellations already took their share out of it)."""
    ids = [line.id for line in lines]
    if line_id not in ids:
        raise ValueError(f"line {line_id} is not in the order")
    live = [line for line in lines if line.live or line.id == line_id]
    refunds: dict[int, int] = {}
    reductions: dict[int, int] = {}
    for inst in installments:
        if inst.paid:
            share = allocate(inst.amount_cents, [line.price_cents for line in lines])
            refunds[inst.id] = share[ids.index(line_id)]
        else:
            share = allocate(inst.amount_cents, [line.price_cents for line in live])
            reductions[inst.id] = share[[line.id for line in live].index(line_id)]
    return CancellationPlan(refunds=refunds, reductions=reductions)
