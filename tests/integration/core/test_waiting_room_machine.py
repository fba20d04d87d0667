"""The waiting room as a state machine (hypothesis), on SQLite and PostgreSQL: families join,
time passes, admission steps run, families try to change their cart. After every move: never
more families registering than the cap, never more let in than the rate allowed since the
opening, positions 1..n without gap, let in strictly in line order, and a cart change goes
through exactly when the family is admitted."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.adapters.clock import ManualClock
from backend.db.waiting_room import Rush, RushEntry
from backend.domain.errors import RegistrationError
from backend.domain.waiting_room import EntryStatus
from backend.services import cart, queries, rush_admission, rush_staff, waiting_room
from backend.services.staff import INTERNAL
from tests.integration.core.helpers import make_harness

RATE, CAP, FAMILIES = 6, 3, 10


def test_the_waiting_room_keeps_its_rules_whatever_happens(
    session_factory: sessionmaker[Session], clock: ManualClock
) -> None:
    h = make_harness(session_factory, clock)
    pool = h.make_families(FAMILIES)
    season_id = h.run(lambda db: queries.current_season(db).id)
    week = h.camp_session("Parc de la Rivière", "7-8 ans", 1)

    class WaitingRoom(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            h.run(lambda db: (db.query(RushEntry).delete(), db.query(Rush).delete()))
            self.opens_at = h.clock.now()
            self.rush_id = int(h.run(lambda db: rush_staff.open_rush(
                db, season_id, opens_at=self.opens_at, rate_per_minute=RATE, cap=CAP,
                clock=h.clock, actor=INTERNAL))["id"])
            self.let_in = 0

        @rule(i=st.integers(0, FAMILIES - 1))
        def join(self, i: int) -> None:
            family = pool[i][0]
            before = self._status(family)
            view = h.run(lambda db: waiting_room.join(
                db, family, season_id=None, clock=h.clock))
            if before == EntryStatus.ADMITTED:
                assert view["status"] == "admitted"  # joining again changes nothing
            else:
                assert view["status"] == "waiting" and view["position"] is not None

        @rule(seconds=st.integers(1, 400))
        def time_passes(self, seconds: int) -> None:
            h.clock.advance(timedelta(seconds=seconds))

        @rule()
        def admission_step(self) -> None:
            done = h.run(lambda db: rush_admission.step(
                db, self.rush_id, clock=h.clock, settings=h.settings))
            self.let_in += done["admitted"]

        @rule(i=st.integers(0, FAMILIES - 1))
        def cart_change(self, i: int) -> None:
            family, child = pool[i]
            admitted = self._status(family) == EntryStatus.ADMITTED
            try:
                h.run(lambda db: cart.add_lines(
                    db, family, child_id=child, session_ids=[week], tshirt_size="M",
                    join_waitlist=True, **h.deps))
            except RegistrationError as refusal:
                assert refusal.code == "waiting_room" and not admitted
            else:
                assert admitted

        def _status(self, family: int) -> EntryStatus | None:
            return h.run(lambda db: db.scalar(select(RushEntry.status).where(
                RushEntry.rush_id == self.rush_id, RushEntry.family_id == family)))

        @invariant()
        def the_rules_hold(self) -> None:
            rows = h.run(lambda db: db.execute(select(
                RushEntry.family_id, RushEntry.status, RushEntry.seq)).all())
            registering = [f for f, s, _ in rows if s == EntryStatus.ADMITTED]
            assert len(registering) <= CAP
            minutes = (h.clock.now() - self.opens_at).total_seconds() / 60
            assert self.let_in <= RATE * minutes + 1e-6
            waiting = {f: seq for f, s, seq in rows if s == EntryStatus.WAITING}
            positions = [h.run(lambda db, f=f: waiting_room.place(
                db, f, season_id=None, clock=h.clock))["position"] for f in waiting]
            assert sorted(positions) == list(range(1, len(waiting) + 1))
            through = h.run(lambda db: db.get(Rush, self.rush_id).admitted_through)
            assert all(seq is not None and seq > through for seq in waiting.values())

    run_state_machine_as_test(
        WaitingRoom,
        settings=settings(max_examples=8, stateful_step_count=25, deadline=None,
                          suppress_health_check=list(HealthCheck)),
    )

