"""Capacity under any sequence of events: a hypothesis state machine over the services.

Eight families compete for three tiny camp weeks (one place each, one service de garde place,
one vélo place per site-week — shared with the site's other groups). Hypothesis draws any
sequence of: holds (with or without options, joining the waitlist or not), the clock moving
(minutes to days) with the expiry job, parents removing lines, staff cancelling any line
(paid ones included), staff raising and lowering capacity, checkouts and their payment.
After every step, on the database itself:

- no pool has handed out more places than it has;
- every pool's `taken` equals the lines (and options) holding it;
- every session's waiting lines rank exactly 1..n;
- a session with a free place has nobody waiting (a freed place goes to the waitlist in the
  same transaction);
- the lines a step offered a place to were the first in line before it, by the domain's
  ranking (backend/domain/waitlist.py), whatever SQL ordered them.

Every service call runs in its own transaction, like the HTTP layer; a refusal
(`RegistrationError`) is an answer, anything else fails the run. Deterministic
(`derandomize=True`) and bounded: SQLite 40 runs of up to 30 steps, PostgreSQL 20 runs
(the steps and refusals tried are printed: `-s`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from backend.adapters.clock import ManualClock
from backend.db.base import Base
from backend.db.engine import make_session_factory
from backend.db.models import CapacityPool, Line, LineStatus, SessionOption
from backend.db.models import Session as ActivitySession
from backend.domain import waitlist as ranking_rule
from backend.domain.errors import RegistrationError
from backend.jobs import run_due_jobs
from backend.services import cart, checkout, staff
from tests.integration.core.helpers import Harness, make_harness
from tests.integration.money.books import deliver, pay_link
from tests.integration.money.fake_gateway import FakeGateway

FAMILIES = 8
WEEK_PLACES = 1
STEP_MINUTES = [1, 5, 10, 21, 60 * 49]


TALLY = {"runs": 0, "steps": 0, "refused": 0, "offers_among_several": 0}


def _attempt(fn: Any) -> Any:
    """A refusal is a legitimate answer (its transaction rolled back); None stands for it."""
    try:
        return fn()
    except RegistrationError:
        TALLY["refused"] += 1
        return None


def machine_for(engine: Engine, clock_start: ManualClock) -> type[RuleBasedStateMachine]:
    class Registrations(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            TALLY["runs"] += 1
            Base.metadata.drop_all(engine)
            Base.metadata.create_all(engine)
            self.h: Harness = make_harness(
                make_session_factory(engine), ManualClock(clock_start.now())
            )
            # Payments through the in-process fake of the gateway port: localstripe's answers
            # cost a second per step, and the money scenarios' contract run keeps the fake
            # faithful to it (tests/integration/money/test_scenarios_localstripe.py).
            self.h.gateway = FakeGateway()  # type: ignore[assignment]
            h = self.h
            self.people = h.make_families(FAMILIES)
            self.sessions = [
                h.camp_session("Parc des Érables", "7-8 ans", 2),
                h.camp_session("Parc des Érables", "7-8 ans", 3),
                h.camp_session("Parc de la Rivière", "7-8 ans", 2),
            ]

            def shrink(db: Session) -> None:
                week_pools = select(ActivitySession.pool_id).where(
                    ActivitySession.id.in_(self.sessions)
                )
                option_pools = select(SessionOption.pool_id).where(
                    SessionOption.session_id.in_(self.sessions)
                )
                db.execute(update(CapacityPool).where(CapacityPool.id.in_(week_pools))
                           .values(capacity=WEEK_PLACES))
                db.execute(update(CapacityPool).where(CapacityPool.id.in_(option_pools))
                           .values(capacity=1))

            h.run(shrink)
            self.waiting_before: dict[int, list[int]] = {}

        def _lines(self, statuses: list[LineStatus]) -> list[int]:
            def q(db: Session) -> list[int]:
                children = [c for _f, c in self.people]
                return list(db.scalars(
                    select(Line.id)
                    .where(Line.status.in_(statuses), Line.person_id.in_(children))
                    .order_by(Line.id)
                ).all())

            return self.h.run(q)

        @rule(
            family=st.integers(0, FAMILIES - 1),
            which=st.lists(st.integers(0, 2), min_size=1, max_size=2, unique=True),
            options=st.sampled_from([(), ("garde",), ("velo",), ("garde", "velo")]),
            join=st.sampled_from([True, True, False]),
        )
        def add(self, family: int, which: list[int], options: tuple[str, ...], join: bool) -> None:
            fid, cid = self.people[family]
            h = self.h
            _attempt(lambda: h.run(lambda db: cart.add_lines(
                db, fid, child_id=cid, session_ids=[self.sessions[i] for i in which],
                options=options, join_waitlist=join, with_cart=False, **h.deps,
            )))

        @rule(
            which=st.integers(0, 2),
            families=st.lists(st.integers(0, FAMILIES - 1), min_size=2, max_size=5, unique=True),
        )
        def rush(self, which: int, families: list[int]) -> None:
            """Several parents, one after the other, for the same week (waitlist included)."""
            for family in families:
                self.add(family, [which], (), True)

        @rule(minutes=st.sampled_from(STEP_MINUTES))
        def time_passes(self, minutes: int) -> None:
            self.h.clock.advance(timedelta(minutes=minutes))
            run_due_jobs(self.h.factory, **self.h.deps)

        @rule(pick=st.integers(0, 30))
        def parent_removes(self, pick: int) -> None:
            lines = self._lines([LineStatus.HELD, LineStatus.WAITLISTED, LineStatus.OFFERED])
            if lines:
                line_id = lines[pick % len(lines)]
                h = self.h
                child = h.run(
                    lambda db: db.scalar(select(Line.person_id).where(Line.id == line_id))
                )
                fid = next(f for f, c in self.people if c == child)
                _attempt(lambda: h.run(lambda db: cart.remove_line(db, fid, line_id, **h.deps)))

        @rule(pick=st.integers(0, 30))
        def staff_cancels(self, pick: int) -> None:
            lines = self._lines([
                LineStatus.HELD, LineStatus.WAITLISTED, LineStatus.OFFERED, LineStatus.CONFIRMED
            ])
            if lines:
                line_id = lines[pick % len(lines)]
                h = self.h
                _attempt(lambda: h.run(lambda db: staff.cancel_line(db, line_id, **h.deps)))

        @rule(which=st.integers(0, 2), delta=st.integers(-2, 2))
        def staff_sets_capacity(self, which: int, delta: int) -> None:
            sid = self.sessions[which]
            h = self.h
            current = h.run(lambda db: db.scalar(
                select(CapacityPool.capacity)
                .join(ActivitySession, ActivitySession.pool_id == CapacityPool.id)
                .where(ActivitySession.id == sid)
            ))
            # Below the places taken is refused (invalid_request): also worth trying.
            new = max(0, int(current or 0) + delta)
            _attempt(lambda: h.run(lambda db: staff.set_capacity(db, sid, new, **h.deps)))

        @rule(family=st.integers(0, FAMILIES - 1), pays=st.booleans())
        def checkout_and_pay(self, family: int, pays: bool) -> None:
            fid = self.people[family][0]
            h = self.h
            result = _attempt(lambda: h.run(lambda db: checkout.checkout(
                db, fid, installments=1, accept_terms=True, card_on_file_consent=False,
                idempotency_key=None, **h.deps,
            )))
            if result is None or not pays or result["status"] != "awaiting_payment":
                return
            paid = pay_link(h, result["order_id"])
            _attempt(lambda: deliver(h, paid))

        @invariant()
        def places_are_exact(self) -> None:
            TALLY["steps"] += 1
            self.h.assert_within_capacity()
            self.h.assert_counters_match()
            self.h.assert_waitlist_contiguous()

        @invariant()
        def a_free_place_never_waits_while_someone_does(self) -> None:
            def q(db: Session) -> list[int]:
                return list(db.scalars(
                    select(ActivitySession.id)
                    .join(CapacityPool, CapacityPool.id == ActivitySession.pool_id)
                    .where(
                        CapacityPool.taken < CapacityPool.capacity,
                        select(func.count(Line.id)).where(
                            Line.session_id == ActivitySession.id,
                            Line.status == LineStatus.WAITLISTED,
                        ).scalar_subquery() > 0,
                    )
                ).all())

            assert self.h.run(q) == []

        @invariant()
        def offers_go_to_the_first_in_line(self) -> None:
            def q(db: Session) -> list[Any]:
                return list(db.execute(
                    select(Line.id, Line.session_id, Line.status, Line.waitlisted_at)
                    .where(Line.session_id.in_(self.sessions))
                ).all())

            rows = self.h.run(q)
            status = {line_id: state for line_id, _s, state, _w in rows}
            for session_id, before in self.waiting_before.items():
                # Who left the line otherwise (removed, cancelled) does not count.
                still = [i for i in before if status[i] in (LineStatus.WAITLISTED,
                                                            LineStatus.OFFERED)]
                offered = [i for i in still if status[i] == LineStatus.OFFERED]
                if offered and len(still) > 1:
                    TALLY["offers_among_several"] += 1
                assert offered == still[: len(offered)], (
                    f"session {session_id}: offered {offered}, line was {still}"
                )
            self.waiting_before = {
                sid: [e.id for e in ranking_rule.ranking(
                    ranking_rule.Entry(line_id, at) for line_id, s, state, at in rows
                    if s == sid and state == LineStatus.WAITLISTED
                )]
                for sid in self.sessions
            }

        def teardown(self) -> None:
            self.h.factory.kw["bind"].dispose()

    return Registrations


def test_capacity_survives_any_sequence_of_events(db_engine: Engine, clock: ManualClock) -> None:
    postgres = db_engine.dialect.name == "postgresql"
    TALLY.update(runs=0, steps=0, refused=0, offers_among_several=0)
    run_state_machine_as_test(
        machine_for(db_engine, clock),
        settings=settings(
            max_examples=20 if postgres else 40,
            stateful_step_count=30,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    print(f"\nstate machine ({db_engine.dialect.name}): {TALLY['runs']} runs, "
          f"{TALLY['steps']} checks of every invariant, {TALLY['refused']} refusals, "
          f"{TALLY['offers_among_several']} steps offering places among several waiting")
