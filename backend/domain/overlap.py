"""When two sessions meet at the same time: a child cannot be in both.

A session meets on every date from its first to its last day whose weekday it lists, during
its daily slot. A session whose weekdays are not recorded meets every day of its dates; one
whose hours are not recorded takes the whole day: an unknown schedule is never assumed free.
Pure: no database, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta

ALL_WEEKDAYS = frozenset(range(1, 8))  # ISO weekdays: 1 = Monday … 7 = Sunday


@dataclass(frozen=True)
class Slot:
    starts_on: date
    ends_on: date
    weekdays: frozenset[int] = ALL_WEEKDAYS
    from_time: time | None = None
    until_time: time | None = None


def parse_weekdays(value: str | None) -> frozenset[int]:
    """ "12345" (Monday to Friday), "6" (Saturdays); None or "" for every day."""
    if not value:
        return ALL_WEEKDAYS
    days = frozenset(int(c) for c in value)
    if not days <= ALL_WEEKDAYS:
        raise ValueError(f"weekdays are ISO digits 1-7: {value!r}")
    return days


def _hours_meet(a: Slot, b: Slot) -> bool:
    start_a, end_a = a.from_time or time.min, a.until_time or time.max
    start_b, end_b = b.from_time or time.min, b.until_time or time.max
    # Half-open: a class ending at 10 h and one starting at 10 h do not overlap.
    return start_a < end_b and start_b < end_a


def _share_a_date(a: Slot, b: Slot) -> bool:
    first, last = max(a.starts_on, b.starts_on), min(a.ends_on, b.ends_on)
    if first > last:
        return False
    days = a.weekdays & b.weekdays
    if not days:
        return False
    span = (last - first).days
    if span >= 6:  # a whole week: every weekday occurs in it
        return True
    return any((first + timedelta(days=i)).isoweekday() in days for i in range(span + 1))


def overlaps(a: Slot, b: Slot) -> bool:
    """True when the two sessions meet on at least one same date at overlapping hours."""
    return _share_a_date(a, b) and _hours_meet(a, b)
