"""The waiting room's rules (backend/domain/waiting_room.py), without a database."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from backend.domain import waiting_room as rules
from backend.domain.waiting_room import Phase, Release, RushState

OPENS = datetime(2027, 4, 20, 23, 0)
GRACE = timedelta(minutes=10)


def test_a_rush_is_a_pre_queue_before_its_opening_and_requires_admission_after() -> None:
    before, after = OPENS - timedelta(seconds=1), OPENS
    assert rules.phase(RushState.OPEN, OPENS, before) == Phase.PRE_QUEUE
    assert rules.phase(RushState.OPEN, OPENS, after) == Phase.RUNNING
    assert rules.phase(RushState.PAUSED, OPENS, after) == Phase.PAUSED
    assert rules.phase(RushState.CLOSED, OPENS, after) == Phase.CLOSED
    assert not rules.requires_admission(Phase.PRE_QUEUE)
    assert rules.requires_admission(Phase.RUNNING) and rules.requires_admission(Phase.PAUSED)
    assert not rules.requires_admission(Phase.CLOSED)


def test_the_pre_queue_is_drawn_once_past_the_opening() -> None:
    assert not rules.must_draw(Phase.PRE_QUEUE, drawn=False)
    assert rules.must_draw(Phase.RUNNING, drawn=False)
    assert not rules.must_draw(Phase.RUNNING, drawn=True)


def test_the_draw_keeps_every_family_once() -> None:
    families = list(range(100))
    drawn = rules.draw(families, random.Random(7))
    assert sorted(drawn) == families and drawn != families


def test_the_rate_lets_in_its_families_per_minute_and_no_more_than_the_cap() -> None:
    one_minute = timedelta(minutes=1)
    by_rate = rules.admissions(waiting=500, registering=0, cap=100, rate_per_minute=30,
                               credit=0, elapsed=one_minute)
    assert by_rate.count == 30
    by_cap = rules.admissions(waiting=500, registering=95, cap=100, rate_per_minute=30,
                              credit=0, elapsed=one_minute)
    assert by_cap.count == 5
    few_waiting = rules.admissions(waiting=3, registering=0, cap=100, rate_per_minute=30,
                                   credit=0, elapsed=one_minute)
    assert few_waiting.count == 3


def test_a_long_wait_saves_up_no_more_than_a_minute_of_the_rate() -> None:
    later = rules.admissions(waiting=500, registering=0, cap=1000, rate_per_minute=30,
                             credit=0, elapsed=timedelta(hours=1))
    assert later.count == 30


def test_half_a_family_is_carried_to_the_next_step() -> None:
    first = rules.admissions(waiting=10, registering=0, cap=10, rate_per_minute=3,
                             credit=0, elapsed=timedelta(seconds=10))
    assert first.count == 0 and abs(first.credit - 0.5) < 1e-9
    second = rules.admissions(waiting=10, registering=0, cap=10, rate_per_minute=3,
                              credit=first.credit, elapsed=timedelta(seconds=10))
    assert second.count == 1 and abs(second.credit) < 1e-9


@given(
    steps=st.lists(st.integers(min_value=0, max_value=120), min_size=1, max_size=40),
    rate=st.integers(min_value=1, max_value=120),
    cap=st.integers(min_value=1, max_value=50),
)
def test_over_any_run_the_rate_and_the_cap_hold(steps: list[int], rate: int, cap: int) -> None:
    credit, registering, let_in, seconds = 0.0, 0, 0, 0
    for elapsed in steps:
        decided = rules.admissions(waiting=10_000, registering=registering, cap=cap,
                                   rate_per_minute=rate, credit=credit,
                                   elapsed=timedelta(seconds=elapsed))
        credit, registering = decided.credit, registering + decided.count
        let_in += decided.count
        seconds += elapsed
        assert registering <= cap
        registering = max(0, registering - 1)  # someone finishes between steps
        # never more than what the rate allowed since the opening
        assert let_in <= rate * seconds / 60 + 1e-6


def test_why_an_admitted_family_stops_counting() -> None:
    now = OPENS + timedelta(minutes=30)
    base = {"checked_out": False, "a_hold_ran_out": False, "holds_live": False,
            "last_active_at": now - timedelta(minutes=1), "now": now, "grace": GRACE}
    assert rules.release(**base) is None
    assert rules.release(**{**base, "checked_out": True}) == Release.CHECKED_OUT
    assert rules.release(**{**base, "a_hold_ran_out": True}) == Release.HOLDS_EXPIRED
    # a hold ran out but another is still live: still registering
    assert rules.release(**{**base, "a_hold_ran_out": True, "holds_live": True}) is None
    idle = {**base, "last_active_at": now - GRACE}
    assert rules.release(**idle) == Release.IDLE


def test_the_estimated_wait_follows_the_observed_rate() -> None:
    assert rules.estimated_wait_minutes(1, 10.0, 30) == 0
    assert rules.estimated_wait_minutes(152, 25.0, 30) == 7
    # before anyone was let in, the staff's rate
    assert rules.estimated_wait_minutes(152, None, 30) == 6
    assert rules.estimated_wait_minutes(5, None, 0) is None
    assert rules.observed_rate(50, timedelta(minutes=10)) == 10.0
    assert rules.observed_rate(20, timedelta(minutes=2)) == 10.0
    assert rules.observed_rate(0, timedelta(minutes=2)) is None


@given(st.data())
def test_the_position_from_the_frontier_is_the_count_of_families_ahead(data: st.DataObject) -> None:
    """Joins at the back, admissions from the front, families let go and joining again: the
    subtraction the service uses equals the domain's count of waiting families ahead."""
    last_seq, admitted_through = 0, 0
    waiting: list[int] = []  # seqs, in order
    finished = 0
    for _ in range(data.draw(st.integers(min_value=1, max_value=60))):
        op = data.draw(st.sampled_from(["join", "admit", "rejoin"]))
        if op == "join" or (op == "rejoin" and finished == 0):
            last_seq += 1
            waiting.append(last_seq)
        elif op == "rejoin":
            finished -= 1
            last_seq += 1
            waiting.append(last_seq)
        else:
            k = data.draw(st.integers(min_value=0, max_value=5))
            let_in, waiting = waiting[:k], waiting[k:]
            if let_in:
                admitted_through = max(let_in)
            finished += len(let_in)
        for seq in waiting:
            assert rules.position_from_frontier(seq, admitted_through) == rules.position(
                seq, waiting
            )
