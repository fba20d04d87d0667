"""Payment terms: one payment, or two installments for day camps.

Two installments only when every paid line is a day camp and the payable total is at least
100 $ (waitlisted lines count for nothing). 50 % now (the odd cent goes on the first), 50 % one
calendar month later (31 January -> 28/29 February). If that date is on or after the day the first
paid week starts, the second is due the day before that start instead; if that day is not after
today, two installments are refused (too_close_to_start).
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

MIN_TWO_INSTALLMENTS_CENTS = 100_00

RefusedReason = Literal["not_day_camp", "below_minimum", "too_close_to_start"]


@dataclass(frozen=True)
class PaidLine:
    """What the terms depend on, for one line that will be billed."""

    is_day_camp: bool
    price_cents: int
    starts_on: date


@dataclass(frozen=True)
class Due:
    seq: int
    due_on: date
    amount_cents: int


@dataclass(frozen=True)
class Terms:
    payable_cents: int
    allowed: tuple[int, ...]
    refused_reason: RefusedReason | None
    plans: dict[int, tuple[Due, ...]]


def add_one_month(day: date) -> date:
    """Same day next month, clamped to the month's last day."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last))


def split_in_two(total_cents: int) -> tuple[int, int]:
    second = total_cents // 2
    return total_cents - second, second


def second_due_date(today: date, first_week_starts_on: date) -> date:
    due = add_one_month(today)
    if due >= first_week_starts_on:
        due = first_week_starts_on - timedelta(days=1)
    return due


def terms(lines: Sequence[PaidLine], today: date) -> Terms:
    """Allowed installment counts and each plan's due dates and amounts, to the cent and day."""
    total = sum(line.price_cents for line in lines)
    one = (Due(1, today, total),)
    reason: RefusedReason | None = None
    two: tuple[Due, ...] | None = None
    if not lines or not all(line.is_day_camp for line in lines):
        reason = "not_day_camp"
    elif total < MIN_TWO_INSTALLMENTS_CENTS:
        reason = "below_minimum"
    else:
        first_start = min(line.starts_on for line in lines)
        second_on = second_due_date(today, first_start)
        if second_on <= today:
            reason = "too_close_to_start"
        else:
            a, b = split_in_two(total)
            two = (Due(1, today, a), Due(2, second_on, b))
    plans: dict[int, tuple[Due, ...]] = {1: one}
    if two is not None:
        plans[2] = two
    return Terms(total, tuple(sorted(plans)), reason, plans)


def replan(lines: Sequence[PaidLine], today: date, count: int) -> tuple[Due, ...]:
    """The plan of an order taken without payment (deferred season), billed from `today`:
    the same number of installments when the terms still allow it, one payment otherwise
    (the second would fall on or before today)."""
    t = terms(lines, today)
    return t.plans[count] if count in t.plans else t.plans[1]
