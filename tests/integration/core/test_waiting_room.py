"""The waiting room through its services, at a set clock, on SQLite and PostgreSQL: the draw of
the pre-queue, first come first served after it, admission by rate and cap, positions and waits,
the end of a family's turn, and the refusal of a cart change from a family not admitted."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from backend.adapters.clock import ManualClock
from backend.db.access import AuditEntry
from backend.db.models import Family, Line
from backend.db.waiting_room import Rush, RushEntry
from backend.demo import seed_demo
from backend.domain import waiting_room as rules
from backend.domain.errors import RegistrationError
from backend.domain.waiting_room import EntryStatus
from backend.services import (
    cart,
    checkout,
    family_data,
    queries,
    rush_admission,
    rush_staff,
    waiting_room,
)
from backend.services.staff import INTERNAL
from tests.integration.core.helpers import Harness, make_harness

RIVIERE = "Parc de la Rivière"


@pytest.fixture
def h(session_factory: sessionmaker[Session], clock: ManualClock) -> Harness:
    return make_harness(session_factory, clock)


def open_rush(h: Harness, *, in_minutes: float = 0, rate: float = 10, cap: int = 100) -> int:
    season_id = h.run(lambda db: queries.current_season(db).id)
    opens_at = h.clock.now() + timedelta(minutes=in_minutes)
    view = h.run(lambda db: rush_staff.open_rush(
        db, season_id, opens_at=opens_at, rate_per_minute=rate, cap=cap, clock=h.clock,
        actor=INTERNAL,
    ))
    return int(view["id"])


def join(h: Harness, family_id: int) -> dict[str, Any]:
    return h.run(lambda db: waiting_room.join(db, family_id, season_id=None, clock=h.clock))


def place(h: Harness, family_id: int) -> dict[str, Any]:
    return h.run(lambda db: waiting_room.place(db, family_id, season_id=None, clock=h.clock))


def step(h: Harness) -> dict[str, int]:
    return h.run(lambda db: rush_admission.step_all(db, clock=h.clock, settings=h.settings))


def families(h: Harness, n: int, first: int = 0) -> list[int]:
    return [f for f, _ in h.make_families(n, first=first)]


def add_week(h: Harness, family_id: int, child_id: int, week: int = 1) -> dict[str, Any]:
    session_id = h.camp_session(RIVIERE, "7-8 ans", week)
    return h.run(lambda db: cart.add_lines(
        db, family_id, child_id=child_id, session_ids=[session_id], tshirt_size="M", **h.deps
    ))


def test_the_pre_queue_is_drawn_once_at_the_opening_then_arrivals_are_first_come(
    h: Harness,
) -> None:
    rush_id = open_rush(h, in_minutes=10)
    early = families(h, 20)
    for family in early:
        before = join(h, family)
        assert before["status"] == "waiting" and before["position"] is None  # no order yet
    assert step(h)["drawn"] == 0  # before the opening nothing is drawn

    h.clock.advance(timedelta(minutes=10))
    assert step(h)["drawn"] == 20
    positions = {family: place(h, family)["position"] for family in early}
    assert sorted(positions.values()) == list(range(1, 21))
    drawn_order = sorted(early, key=lambda f: positions[f])
    assert drawn_order != early  # shuffled (the chance of the join order again is 1 in 20!)

    rush = h.run(lambda db: db.get(Rush, rush_id))
    assert json.loads(rush.draw_order) == drawn_order  # the order kept for audit
    audits = h.run(lambda db: db.scalars(
        select(AuditEntry).where(AuditEntry.action == "rush_draw")).all())
    assert len(audits) == 1 and json.loads(audits[0].detail)["families"] == 20

    # Drawn once: later steps and later arrivals change no one's place; late families queue
    # at the back in their order of arrival.
    late = families(h, 3, first=100)
    for family in late:
        join(h, family)
    assert step(h)["drawn"] == 0
    assert {family: place(h, family)["position"] for family in early} == positions
    assert [place(h, family)["position"] for family in late] == [21, 22, 23]


def test_admission_by_rate_and_by_cap_both_changed_while_it_runs(h: Harness) -> None:
    rush_id = open_rush(h, rate=10, cap=15)
    queued = families(h, 50)
    for family in queued:
        join(h, family)
    assert step(h)["admitted"] == 0  # at the opening instant the rate allowed no one yet

    h.clock.advance(timedelta(seconds=30))
    assert step(h)["admitted"] == 5  # 10 a minute
    h.clock.advance(timedelta(minutes=5))
    assert step(h)["admitted"] == 10  # a minute's worth at most, then the cap (15)
    h.clock.advance(timedelta(minutes=1))
    assert step(h)["admitted"] == 0  # 15 registering: the cap holds

    h.run(lambda db: rush_staff.set_limits(
        db, rush_id, rate_per_minute=None, cap=18, clock=h.clock, actor=INTERNAL))
    h.clock.advance(timedelta(minutes=1))
    assert step(h)["admitted"] == 3
    h.run(lambda db: rush_staff.set_limits(
        db, rush_id, rate_per_minute=120, cap=1000, clock=h.clock, actor=INTERNAL))
    h.clock.advance(timedelta(seconds=10))
    # 120 a minute for 10 seconds, plus the 7 the last minute's allowance left unspent
    assert step(h)["admitted"] == 27

    admitted = [f for f in queued if place(h, f)["status"] == "admitted"]
    assert admitted == queued[:45]  # strictly in the order of the line


def test_a_pause_lets_no_one_in_and_saves_up_no_crowd(h: Harness) -> None:
    rush_id = open_rush(h, rate=10, cap=100)
    queued = families(h, 40)
    for family in queued:
        join(h, family)
    h.run(lambda db: rush_staff.move(db, rush_id, "pause", clock=h.clock, actor=INTERNAL))
    h.clock.advance(timedelta(minutes=10))
    assert step(h)["admitted"] == 0
    paused = place(h, queued[0])
    assert paused["rush"]["phase"] == "paused" and paused["position"] == 1
    assert paused["estimated_wait_minutes"] is None and paused["admission_required"] is True
    h.clock.advance(timedelta(minutes=10))  # no step at all during this part of the pause
    h.run(lambda db: rush_staff.move(db, rush_id, "resume", clock=h.clock, actor=INTERNAL))
    h.clock.advance(timedelta(seconds=30))
    assert step(h)["admitted"] == 5  # the 30 s since resuming, not the 20 min of the pause


def test_one_place_per_family_file(h: Harness) -> None:
    open_rush(h)
    first, second = families(h, 2)
    join(h, first)
    again = join(h, first)  # a second chat, a second phone: the same file
    join(h, second)
    assert again["position"] == 1 and join(h, first)["position"] == 1
    assert place(h, second)["position"] == 2
    count = h.run(lambda db: db.scalar(select(func.count()).select_from(RushEntry).where(
        RushEntry.family_id == first)))
    assert count == 1


def test_positions_and_estimated_waits_follow_the_observed_rate(h: Harness) -> None:
    rush_id = open_rush(h, rate=10, cap=1000)
    queued = families(h, 40)
    for family in queued:
        join(h, family)
    view = place(h, queued[20])
    assert view["position"] == 21
    assert view["estimated_wait_minutes"] == 2  # 20 ahead at the staff's 10 a minute

    h.clock.advance(timedelta(minutes=1))
    step(h)  # 10 let in over the first minute
    h.run(lambda db: rush_staff.set_limits(
        db, rush_id, rate_per_minute=1, cap=None, clock=h.clock, actor=INTERNAL))
    view = place(h, queued[20])
    assert view["position"] == 11
    assert view["estimated_wait_minutes"] == 1  # observed 10 a minute, not the new rate
    assert place(h, queued[0])["status"] == "admitted"
    status = h.run(lambda db: rush_staff.status(db, rush_id, clock=h.clock, actor=INTERNAL))
    assert status["waiting"] == 30 and status["registering"] == 10
    assert status["admitted_per_minute"] == 10.0


def test_an_idle_family_lets_the_next_one_in_after_the_grace(h: Harness) -> None:
    open_rush(h, rate=60, cap=1)
    (first, child), (second, _) = h.make_families(2)
    join(h, first)
    join(h, second)
    h.clock.advance(timedelta(minutes=1))
    step(h)
    assert place(h, first)["status"] == "admitted" and place(h, second)["position"] == 1

    h.clock.advance(timedelta(minutes=5))
    add_week(h, first, child)  # activity: the grace starts again
    h.clock.advance(timedelta(minutes=9))
    step(h)
    assert place(h, second)["status"] == "waiting"
    h.clock.advance(timedelta(minutes=1))
    done = step(h)
    assert done["released"] == 1 and done["admitted"] == 1
    assert place(h, first)["status"] == "finished"
    assert place(h, second)["status"] == "admitted"
    entry = h.run(lambda db: db.scalar(select(RushEntry).where(RushEntry.family_id == first)))
    assert entry.finished_because == rules.Release.IDLE
    # its turn is over: a cart change is refused, and joining again goes to the back
    with pytest.raises(RegistrationError) as refused:
        add_week(h, first, child, week=3)
    assert refused.value.code == "waiting_room" and refused.value.extra["status"] == "finished"
    third = families(h, 1, first=50)[0]
    join(h, third)
    assert join(h, first)["position"] == 2
    # the family's Loi 25 export says it too
    client_number = h.run(lambda db: db.get(Family, first).client_number)
    exported = h.run(lambda db: family_data.export_family(
        db, client_number, clock=h.clock, actor=INTERNAL, settings=h.settings))
    assert [(e["status"], e["finished_because"]) for e in exported["waiting_room"]] == [
        ("waiting", None)]


def test_a_checkout_or_holds_running_out_end_the_turn(h: Harness) -> None:
    h.settings = dataclasses.replace(h.settings, rush_idle_grace_minutes=120)
    open_rush(h, rate=60, cap=2)
    (payer, payer_child), (slow, slow_child), (third, _) = h.make_families(3)
    for family in (payer, slow, third):
        join(h, family)
    h.clock.advance(timedelta(minutes=1))
    step(h)
    add_week(h, payer, payer_child)
    add_week(h, slow, slow_child)
    h.run(lambda db: checkout.checkout(
        db, payer, installments=1, accept_terms=True, card_on_file_consent=False,
        idempotency_key=None, **h.deps))
    assert step(h)["released"] == 1
    assert place(h, payer)["status"] == "finished" and place(h, third)["status"] == "admitted"

    h.clock.advance(timedelta(minutes=h.settings.hold_minutes + 1))
    assert step(h)["released"] == 1  # the slow family's hold ran out
    reasons = h.run(lambda db: dict(db.execute(
        select(RushEntry.family_id, RushEntry.finished_because)).all()))
    assert reasons[payer] == rules.Release.CHECKED_OUT
    assert reasons[slow] == rules.Release.HOLDS_EXPIRED


def test_the_backend_refuses_a_cart_change_from_a_family_not_admitted(h: Harness) -> None:
    rush_id = open_rush(h, in_minutes=5, rate=60, cap=10)
    (early, early_child), (waiting, waiting_child), (stranger, stranger_child) = (
        h.make_families(3))
    add_week(h, early, early_child, week=2)  # before the opening: no admission yet
    join(h, early)
    join(h, waiting)
    h.clock.advance(timedelta(minutes=5))
    step(h)  # drawn, nobody admitted at the opening instant
    lines_before = h.run(lambda db: db.scalar(select(func.count()).select_from(Line)))

    with pytest.raises(RegistrationError) as refused:
        add_week(h, stranger, stranger_child)
    assert refused.value.code == "waiting_room"
    assert refused.value.extra["status"] == "not_in_line"
    with pytest.raises(RegistrationError) as refused:
        add_week(h, waiting, waiting_child)
    assert refused.value.code == "waiting_room"
    assert refused.value.extra["position"] in (1, 2)
    line_id = h.run(lambda db: cart.cart_lines(db, early)[0].id)
    with pytest.raises(RegistrationError) as refused:
        h.run(lambda db: cart.remove_line(db, early, line_id, **h.deps))
    assert refused.value.code == "waiting_room"
    with pytest.raises(RegistrationError):
        h.run(lambda db: checkout.checkout(
            db, early, installments=1, accept_terms=True, card_on_file_consent=False,
            idempotency_key=None, **h.deps))
    assert h.run(lambda db: db.scalar(select(func.count()).select_from(Line))) == lines_before
    h.assert_capacity_exact()
    # the catalog and the cart are questions: no admission needed
    assert h.run(lambda db: cart.cart_view(db, stranger, clock=h.clock, settings=h.settings))

    h.clock.advance(timedelta(minutes=1))
    step(h)
    assert add_week(h, waiting, waiting_child)["results"][0]["outcome"] == "held"

    h.run(lambda db: rush_staff.move(db, rush_id, "close", clock=h.clock, actor=INTERNAL))
    assert add_week(h, stranger, stranger_child)["results"][0]["outcome"] == "held"


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(ops=st.lists(st.sampled_from(["join", "admit", "idle"]), min_size=1, max_size=25))
def test_the_stored_position_agrees_with_the_domain_count(
    session_factory: sessionmaker[Session], clock: ManualClock, ops: list[str]
) -> None:
    """The service's position (a subtraction on two stored numbers) equals the domain's count of
    waiting families ahead, whatever joins, admissions and ends of turn came before."""
    h = make_harness(session_factory, clock, seed=False)
    if not h.run(_has_season):
        h.run(lambda db: seed_demo(db, clock=clock))
    # every example starts from an empty waiting room
    h.run(lambda db: (db.query(RushEntry).delete(), db.query(Rush).delete()))
    open_rush(h, rate=3, cap=4)
    pool = families(h, 12, first=h.run(lambda db: _family_count(db)))
    joined = 0
    for op in ops:
        if op == "join" and joined < len(pool):
            join(h, pool[joined])
            joined += 1
        elif op == "admit":
            h.clock.advance(timedelta(seconds=40))
            step(h)
        elif op == "idle":
            h.clock.advance(timedelta(minutes=h.settings.rush_idle_grace_minutes))
            step(h)
            for family in pool[:joined]:
                if place(h, family)["status"] == "finished":
                    join(h, family)  # back of the line
                    break
        waiting = h.run(lambda db: db.execute(select(RushEntry.family_id, RushEntry.seq).where(
            RushEntry.status == EntryStatus.WAITING)).all())
        seqs = [int(s) for _, s in waiting]
        for family, seq in waiting:
            assert place(h, family)["position"] == rules.position(int(seq), seqs)


def _has_season(db: Session) -> bool:
    from backend.db.models import Season

    return bool(db.scalar(select(func.count()).select_from(Season)))


def _family_count(db: Session) -> int:
    from backend.db.models import Family

    return int(db.scalar(select(func.max(Family.id))) or 0) + 1000
