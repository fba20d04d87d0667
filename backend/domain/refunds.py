"""What a cancelled registration gives back (pure rules, no I/O).

Refunds follow the allocation recorded at capture (`backend.domain.allocation`): cancelling a
line gives back, from each captured installment, what that installment paid for that line
(less what was already given back to it), minus the fee the policy keeps; what the line still
owes is taken out of the installments still to come, in proportion to their amounts. An
installment left at 0 $ is cancelled by the caller.

So for every line, always: 0 <= refunded <= paid; a line still registered has paid + owed =
its price; a cancelled line has paid - refunded = the fee kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from backend.domain.allocation import split


@dataclass(frozen=True)
class RefundPolicy:
    """What the city keeps of a cancelled registration (Settings: CANCELLATION_FEE_CENTS,
    REFUND_DEADLINE_DAYS).

    Québec cities' usual terms: everything paid comes back less an administration fee per
    registration when it is cancelled early enough, nothing when it is cancelled within a few
    days of the start, and a parent cannot cancel an activity that has started (the city may,
    for a medical reason). `deadline_days` None: refunded (less the fee) whenever cancelled."""

    fee_cents: int = 0
    deadline_days: int | None = None


# What a line that leaves its order without being cancelled by anyone (a late payment that
# could not confirm it) keeps: nothing.
FULL_REFUND = RefundPolicy()


def kept_fee_cents(
    paid_cents: int, policy: RefundPolicy = FULL_REFUND, days_before_start: int | None = None
) -> int:
    """What the policy keeps of a cancelled line that was paid `paid_cents`, cancelled
    `days_before_start` days before its first day (negative: after it started)."""
    if (
        policy.deadline_days is not None
        and days_before_start is not None
        and days_before_start < policy.deadline_days
    ):
        return paid_cents
    return min(policy.fee_cents, paid_cents)


def parent_may_cancel(today: date, starts_on: date) -> bool:
    """A parent cancels a registration only before its first day (then, staff decide)."""
    return today < starts_on


@dataclass(frozen=True)
class Capture:
    """One captured installment, as it concerns the line being cancelled."""

    installment_id: int
    allocated_cents: int  # what this capture paid for the line
    refunded_cents: int  # what was already given back to the line from it


@dataclass(frozen=True)
class Upcoming:
    """An installment still to come (scheduled, or failed and awaiting its link)."""

    installment_id: int
    amount_cents: int


@dataclass(frozen=True)
class CancellationPlan:
    refunds: dict[int, int]  # installment id -> cents refunded from its charge
    reductions: dict[int, int]  # installment id -> cents removed from what is still due
    kept_cents: int

    @property
    def refund_cents(self) -> int:
        return sum(self.refunds.values())

    @property
    def reduced_cents(self) -> int:
        return sum(self.reductions.values())


def cancellation_plan(
    price_cents: int,
    captures: Sequence[Capture],
    upcoming: Sequence[Upcoming],
    policy: RefundPolicy = FULL_REFUND,
    days_before_start: int | None = None,
) -> CancellationPlan:
    """What cancelling a line of price `price_cents` refunds and removes, installment by
    installment. The fee kept comes out of the latest captures first."""
    paid = sum(c.allocated_cents for c in captures)
    if any(c.refunded_cents > c.allocated_cents for c in captures):
        raise ValueError("more refunded to a line than was allocated to it")
    if paid > price_cents:
        raise ValueError("a line was allocated more than its price")
    kept = kept_fee_cents(paid, policy, days_before_start)
    keep = kept
    refunds: dict[int, int] = {}
    for capture in reversed(captures):
        give_back = capture.allocated_cents - capture.refunded_cents
        kept_here = min(keep, give_back)
        keep -= kept_here
        refunds[capture.installment_id] = give_back - kept_here
    owed = price_cents - paid
    # What is still due for the other lines is exactly the rest of the upcoming installments.
    owed = min(owed, sum(u.amount_cents for u in upcoming))
    cuts = split(owed, [u.amount_cents for u in upcoming]) if upcoming else []
    reductions = {u.installment_id: cut for u, cut in zip(upcoming, cuts, strict=True)}
    return CancellationPlan(
        refunds=dict(reversed(list(refunds.items()))),
        reductions=reductions,
        kept_cents=kept,
    )
