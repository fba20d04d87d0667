"""Waitlist order: FIFO by the instant the entry joined, then by id (insertion order).

A position is the rank among entries still waiting: 1..n without gap, whatever left before
(an offer, a removal). Offers go to position 1 first. The services compute it in SQL, for
speed (`waitlist_positions`, the ORDER BY of `offer_free_places`); this is the rule they are
tested against (tests/integration/core/test_waitlist_ranking.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Entry:
    id: int
    waitlisted_at: datetime


def ranking(waiting: Iterable[Entry]) -> list[Entry]:
    return sorted(waiting, key=lambda e: (e.waitlisted_at, e.id))


def positions(waiting: Iterable[Entry]) -> dict[int, int]:
    """entry id -> position (1-based) among the entries still waiting."""
    return {e.id: i for i, e in enumerate(ranking(waiting), start=1)}

