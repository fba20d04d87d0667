"""Waitlist order: FIFO by the instant the entry joined, then by id (insertion order).

A position is the rank among entries still waiting: 1..n without gap, whatever left before
(an offer, a removal). Offers go to position 1 first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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


def next_to_offer(waiting: Sequence[Entry], free_places: int) -> list[Entry]:
    """Who gets the `free_places` freed places: the first ones in the ranking."""
    return ranking(waiting)[: max(free_places, 0)]
