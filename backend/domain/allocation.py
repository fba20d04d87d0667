"""Which lines a captured payment paid for (pure rules, no I/O).

A payment is allocated when it is captured, to the lines of its order still registered, in
proportion to what each of them still owes (to the cent: largest remainder, ties to the earlier
line). What a line owes is its price minus what earlier captures allocated to it, so a line
cancelled between two installments takes nothing of the second one, and a line never receives
more than its price. The allocation is recorded; refunds follow it (`backend.domain.refunds`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


def split(amount_cents: int, weights: Sequence[int]) -> list[int]:
    """Split `amount_cents` in proportion to `weights`; the parts add up to it exactly.

    When `amount_cents` is at most the sum of the weights, no part exceeds its weight.
    All-zero weights share equally.

    >>> split(10000, [9500, 4000])
    [7037, 2963]
    """
    if not weights:
        if amount_cents:
            raise ValueError("nothing to split an amount among")
        return []
    if amount_cents < 0 or any(w < 0 for w in weights):
        raise ValueError("amounts and weights must not be negative")
    total = sum(weights)
    if total == 0:
        weights, total = [1] * len(weights), len(weights)
    parts = [amount_cents * w // total for w in weights]
    by_remainder = sorted(
        range(len(weights)), key=lambda i: (-(amount_cents * weights[i] % total), i)
    )
    for i in by_remainder[: amount_cents - sum(parts)]:
        parts[i] += 1
    return parts


@dataclass(frozen=True)
class LineAccount:
    """One line of an order, as money sees it."""

    id: int
    price_cents: int
    allocated_cents: int  # what earlier captures allocated to it

    @property
    def owed_cents(self) -> int:
        return self.price_cents - self.allocated_cents


class OverCapture(ValueError):
    """A capture larger than what the lines still owe: the caller refunds it, never keeps it."""


def allocate_capture(amount_cents: int, lines: Sequence[LineAccount]) -> dict[int, int]:
    """Line id -> cents of a captured `amount_cents`, among the lines still registered.

    >>> allocate_capture(9500, [LineAccount(1, 9500, 4750), LineAccount(2, 9500, 0)])
    {1: 3167, 2: 6333}
    """
    owed = [line.owed_cents for line in lines]
    if any(o < 0 for o in owed):
        raise ValueError("a line was allocated more than its price")
    if amount_cents > sum(owed):
        raise OverCapture(f"{amount_cents} cents captured, {sum(owed)} owed")
    parts = split(amount_cents, owed)
    return {line.id: part for line, part in zip(lines, parts, strict=True)}
