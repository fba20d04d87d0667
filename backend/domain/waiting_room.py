"""The waiting room of registration night: pure rules, no database.

A season's rush window opens at a set instant. Families who arrive before it wait in a
pre-queue with no order; at the opening the pre-queue is drawn once at random, then later
arrivals go to the back, first come first served. Families are let in at a rate (families per
minute) and while fewer than a cap are registering at once; an admitted family stops counting
toward the cap when it checks out, when its holds run out, or after an idle grace.
"""

from __future__ import annotations

import enum
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

T = TypeVar("T")

# Admissions seen over this window give the observed rate the estimated wait uses.
OBSERVED_WINDOW = timedelta(minutes=5)


class RushState(enum.StrEnum):
    """What staff set: a rush is open (admitting from its opening), paused or closed."""

    OPEN = "open"
    PAUSED = "paused"
    CLOSED = "closed"


class Phase(enum.StrEnum):
    """Where a rush stands at an instant."""

    PRE_QUEUE = "pre_queue"  # before the opening: families wait, nobody is admitted
    RUNNING = "running"  # admission is required and families are let in
    PAUSED = "paused"  # admission is still required, nobody new is let in
    CLOSED = "closed"  # no admission required any more


class EntryStatus(enum.StrEnum):
    WAITING = "waiting"
    ADMITTED = "admitted"  # may change its cart; counts toward the cap
    FINISHED = "finished"  # checked out, holds ran out or idle: no longer counts


class Release(enum.StrEnum):
    CHECKED_OUT = "checked_out"
    HOLDS_EXPIRED = "holds_expired"
    IDLE = "idle"


def phase(state: RushState, opens_at: datetime, now: datetime) -> Phase:
    if state == RushState.CLOSED:
        return Phase.CLOSED
    if now < opens_at:
        return Phase.PRE_QUEUE
    return Phase.PAUSED if state == RushState.PAUSED else Phase.RUNNING


def requires_admission(current: Phase) -> bool:
    """From the opening until staff close the rush, only admitted families change a cart."""
    return current in (Phase.RUNNING, Phase.PAUSED)


def must_draw(current: Phase, drawn: bool) -> bool:
    """The pre-queue is drawn once, at the first moment the rush is past its opening."""
    return not drawn and current in (Phase.RUNNING, Phase.PAUSED)


def draw(pre_queue: Sequence[T], rng: random.Random) -> list[T]:
    """The pre-queue in a random order (the caller passes `secrets.SystemRandom()`)."""
    order = list(pre_queue)
    rng.shuffle(order)
    return order


@dataclass(frozen=True)
class Admission:
    count: int  # families to let in now
    credit: float  # what the rate still allows, carried to the next step


def admissions(
    *,
    waiting: int,
    registering: int,
    cap: int,
    rate_per_minute: float,
    credit: float,
    elapsed: timedelta,
) -> Admission:
    """How many families to let in now (a token bucket).

    The rate adds `rate_per_minute` places per minute of running time to the credit, up to one
    minute's worth (a rush paused or held by the cap does not save up a crowd to let in at
    once); each admission spends one. The cap limits how many may register at once."""
    ceiling = max(1.0, float(rate_per_minute))
    seconds = max(0.0, elapsed.total_seconds())
    credit = min(ceiling, max(0.0, credit) + rate_per_minute * seconds / 60.0)
    room = max(0, cap - registering)
    count = max(0, min(waiting, room, math.floor(credit + 1e-9)))
    return Admission(count=count, credit=credit - count)


def release(
    *,
    checked_out: bool,
    a_hold_ran_out: bool,
    holds_live: bool,
    last_active_at: datetime,
    now: datetime,
    grace: timedelta,
) -> Release | None:
    """Why an admitted family stops counting toward the cap, or None while it still does:
    it ordered since it was let in; a place it held since then ran out and it holds none any
    more; or it did nothing in the cart for `grace`."""
    if checked_out:
        return Release.CHECKED_OUT
    if a_hold_ran_out and not holds_live:
        return Release.HOLDS_EXPIRED
    if now - last_active_at >= grace:
        return Release.IDLE
    return None


def position(seq: int, waiting: Iterable[int]) -> int:
    """1 for the next family let in: one more than the waiting families ahead."""
    return 1 + sum(1 for other in waiting if other < seq)


def position_from_frontier(seq: int, admitted_through: int) -> int:
    """The same number without reading the queue: families are let in strictly in sequence
    order and sequences are given without gaps, so the waiting ones are exactly those after the
    last sequence let in (proved equal to `position` by a property test)."""
    return seq - admitted_through


def observed_rate(admitted_in_window: int, running_for: timedelta) -> float | None:
    """Families let in per minute over the recent window (or since the opening, if shorter);
    None before any admission was seen."""
    span = min(running_for, OBSERVED_WINDOW).total_seconds() / 60.0
    if admitted_in_window <= 0 or span <= 0:
        return None
    return admitted_in_window / span


def estimated_wait_minutes(
    place: int, observed: float | None, rate_per_minute: float
) -> int | None:
    """Whole minutes until the family at `place` is let in, from the observed rate (the staff's
    rate before anyone was let in); 0 for the next one in line. None: nobody is let in at all
    (a rate of 0)."""
    per_minute = observed if observed else rate_per_minute
    if per_minute <= 0:
        return None
    return max(0, math.ceil((place - 1) / per_minute))
