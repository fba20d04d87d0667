"""Money under any sequence of events: a hypothesis state machine over the services, with the
in-process fake of the gateway port.

Four families, three camp weeks of two places (a service de garde of one place), and any
sequence of: holds (with the garde or not, on the waitlist or not), checkouts in one or two
installments (an idempotency key reused or not), payments of a link (once or twice, by two
tabs), their confirmations delivered in any order, replayed, or late (after the hold ran out),
the clock moving (minutes to days) with the jobs, the second installments' day (the saved card
declining or not, then paid by its link), parents removing lines, staff cancelling any line
(paid ones included) and changing capacity. After every step, on the backend's database and
the gateway's ledger (`books.problems`): every line's paid, refunded and still due add up,
every capture is allocated exactly, every refund is recorded and every kept charge belongs to
exactly one installment; also every pool's counter equals the places lines hold and no child
holds two places in one session.

Every service call runs in its own transaction, like the HTTP layer; a refusal
(`RegistrationError`) is an answer, anything else fails the run. Deterministic and bounded:
SQLite 15 runs of up to 30 steps, PostgreSQL 6 (the counts are printed: `-s`).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from backend.adapters.clock import ManualClock, from_local
from backend.db.base import Base
from backend.db.engine import make_session_factory
from backend.db.models import (
    CapacityPool,
    Category,
    Group,
    Line,
    LineStatus,
    Order,
    OrderStatus,
    PaymentMode,
    Program,
    Season,
    SessionOption,
    Site,
)
from backend.db.models import Session as ActivitySession
from backend.domain.errors import RegistrationError
from backend.domain.states import PLACE_HOLDING
from backend.jobs import run_due_jobs
from backend.services import cart, checkout, staff
from tests.integration.core.helpers import Harness, make_harness
from tests.integration.money.books import Capture, deliver, pay_link, problems
from tests.integration.money.fake_gateway import FakeGateway

FAMILIES = 4
WEEKS = 3
STEP_MINUTES = [5, 21, 31, 60 * 49]
PAYABLE = (OrderStatus.AWAITING_PAYMENT, OrderStatus.PARTIALLY_PAID, OrderStatus.EXPIRED)

TALLY = dict.fromkeys(
    ["runs", "steps", "refused", "orders", "links_paid", "paid", "duplicates", "late"], 0
)


def _attempt(fn: Any) -> Any:
    try:
        return fn()
    except RegistrationError:
        TALLY["refused"] += 1
        return None


def _catalog(db: Session, clock: ManualClock) -> list[int]:
    """A small summer: one site, a 7-8 ans camp group, three weeks of two places each with a
    one-place service de garde; registration open until the end of August."""
    season = Season(
        name="Été test",
        year=2027,
        residents_open_at=clock.now() - timedelta(days=7),
        nonresidents_open_at=clock.now() - timedelta(days=7),
        closes_at=from_local(datetime(2027, 8, 31, 23, 0)),
        payment_mode=PaymentMode.NORMAL,
    )
    site = Site(name="Parc test")
    program = Program(season=season, name="Camp de jour", category=Category.DAY_CAMP)
    group = Group(program=program, site=site, label="7-8 ans", min_age=7, max_age=8)
    db.add_all([season, site, program, group])
    sessions = []
    for week in range(WEEKS):
        monday = date(2027, 7, 5) + timedelta(weeks=week)
        session = ActivitySession(
            group=group,
            number=week + 2,
            starts_on=monday,
            ends_on=monday + timedelta(days=4),
            pool=CapacityPool(capacity=2, taken=0),
            price_resident_cents=9500,
            price_nonresident_cents=14000,
        )
        session.options.append(
            SessionOption(code="garde", price_cents=4000, pool=CapacityPool(capacity=1, taken=0))
        )
        db.add(session)
        sessions.append(session)
    db.flush()
    return [s.id for s in sessions]


def machine_for(engine: Engine, clock_start: ManualClock) -> type[RuleBasedStateMachine]:
    class Accounts(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            TALLY["runs"] += 1
            Base.metadata.drop_all(engine)
            Base.metadata.create_all(engine)
            clock = ManualClock(clock_start.now())
            self.h: Harness = make_harness(make_session_factory(engine), clock, seed=False)
            self.gateway = FakeGateway()
            self.h.gateway = self.gateway  # type: ignore[assignment]
            self.sessions = self.h.run(lambda db: _catalog(db, clock))
            self.people = self.h.make_families(FAMILIES)
            self.orders: list[int] = []
            self.keys: dict[str, int] = {}
            self.pending: list[Capture] = []
            self.delivered: list[Capture] = []

        # ------------------------------------------------------------------ parents

        @rule(
            family=st.integers(0, FAMILIES - 1),
            which=st.lists(st.integers(0, WEEKS - 1), min_size=1, max_size=2, unique=True),
            garde=st.booleans(),
            wait=st.booleans(),
        )
        def hold(self, family: int, which: list[int], garde: bool, wait: bool) -> None:
            fid, cid = self.people[family]
            h = self.h
            _attempt(
                lambda: h.run(
                    lambda db: cart.add_lines(
                        db,
                        fid,
                        child_id=cid,
                        session_ids=[self.sessions[i] for i in which],
                        options=["garde"] if garde else [],
                        join_waitlist=wait,
                        with_cart=False,
                        **h.deps,
                    )
                )
            )

        @rule(
            pick=st.integers(0, FAMILIES - 1),
            n=st.sampled_from([1, 2]),
            key=st.sampled_from([None, "fresh", "again"]),
        )
        def checks_out(self, pick: int, n: int, key: str | None) -> None:
            """A family with something in its cart passes the order."""
            with_cart = sorted(
                {f for _line, f in self._lines([LineStatus.HELD, LineStatus.OFFERED])}
            )
            if not with_cart:
                return
            fid = with_cart[pick % len(with_cart)]
            family = next(i for i, (f, _c) in enumerate(self.people) if f == fid)
            h = self.h
            used = [k for k in self.keys if k.startswith(f"f{family}-")]
            if key == "again" and used:
                idem: str | None = used[-1]
            elif key is None:
                idem = None
            else:
                idem = f"f{family}-{len(self.keys)}"
            result = _attempt(
                lambda: h.run(
                    lambda db: checkout.checkout(
                        db,
                        fid,
                        installments=n,
                        accept_terms=True,
                        card_on_file_consent=True,
                        idempotency_key=idem,
                        **h.deps,
                    )
                )
            )
            if result is None:
                return
            order_id = int(result["order_id"])
            if idem is not None:
                # The same key always answers the same order.
                assert self.keys.setdefault(idem, order_id) == order_id
            if order_id not in self.orders:
                TALLY["orders"] += 1
                self.orders.append(order_id)

        def _payable_order(self, pick: int) -> int | None:
            if not self.orders:
                return None
            order_id = self.orders[pick % len(self.orders)]
            order = self.h.run(lambda db: db.get(Order, order_id))
            if order is None or order.gateway_session_id is None or order.status not in PAYABLE:
                return None
            return order_id

        @rule(pick=st.integers(0, 20), tabs=st.sampled_from([1, 2]), save=st.booleans())
        def pays(self, pick: int, tabs: int, save: bool) -> None:
            """The parent pays a link (twice with two tabs); the confirmations wait."""
            order_id = self._payable_order(pick)
            if order_id is None:
                return
            TALLY["links_paid"] += tabs
            for _ in range(tabs):
                self.pending.append(pay_link(self.h, order_id, save_card=save))

        @rule(
            family=st.integers(0, FAMILIES - 1),
            which=st.lists(st.integers(0, WEEKS - 1), min_size=1, max_size=2, unique=True),
            garde=st.booleans(),
            n=st.sampled_from([1, 2]),
            save=st.booleans(),
            how=st.sampled_from(["once", "two_tabs", "late"]),
        )
        def registers_and_pays(
            self, family: int, which: list[int], garde: bool, n: int, save: bool, how: str
        ) -> None:
            """A whole registration at once: hold, order, pay (by two tabs, or too late),
            the confirmations delivered."""
            self.hold(family, which, garde, False)
            before = len(self.orders)
            self.checks_out(family, n, "fresh")
            if len(self.orders) == before:
                return
            self.pays(len(self.orders) - 1, 2 if how == "two_tabs" else 1, save)
            if how == "late":
                self.time_passes(60)
            while self.pending:
                self.confirmation_arrives(len(self.pending) - 1)

        @rule(pick=st.integers(0, 20))
        def confirmation_arrives(self, pick: int) -> None:
            if not self.pending:
                return
            capture = self.pending.pop(pick % len(self.pending))
            out = _attempt(lambda: deliver(self.h, capture))
            self.delivered.append(capture)
            if out is not None:
                TALLY["paid"] += out["outcome"] == "paid"
                TALLY["duplicates"] += out["outcome"] == "already_paid"
                TALLY["late"] += out["outcome"] == "refunded"

        @rule(pick=st.integers(0, 20))
        def confirmation_replayed(self, pick: int) -> None:
            if self.delivered:
                capture = self.delivered[pick % len(self.delivered)]
                out = _attempt(lambda: deliver(self.h, capture))
                assert out is None or out["outcome"] == "duplicate"

        @rule(pick=st.integers(0, 40))
        def parent_removes(self, pick: int) -> None:
            lines = self._lines([LineStatus.HELD, LineStatus.WAITLISTED, LineStatus.OFFERED])
            if lines:
                line_id, family_id = lines[pick % len(lines)]
                h = self.h
                _attempt(
                    lambda: h.run(lambda db: cart.remove_line(db, family_id, line_id, **h.deps))
                )

        # ------------------------------------------------------------------ staff and time

        @rule(pick=st.integers(0, 40))
        def staff_cancels(self, pick: int) -> None:
            lines = self._lines(
                [LineStatus.HELD, LineStatus.WAITLISTED, LineStatus.OFFERED, LineStatus.CONFIRMED]
            )
            if lines:
                line_id = lines[pick % len(lines)][0]
                h = self.h
                _attempt(lambda: h.run(lambda db: staff.cancel_line(db, line_id, **h.deps)))

        @rule(which=st.integers(0, WEEKS - 1), delta=st.integers(-1, 1))
        def staff_sets_capacity(self, which: int, delta: int) -> None:
            sid = self.sessions[which]
            h = self.h
            current = h.run(
                lambda db: db.scalar(
                    select(CapacityPool.capacity)
                    .join(ActivitySession, ActivitySession.pool_id == CapacityPool.id)
                    .where(ActivitySession.id == sid)
                )
            )
            new = max(0, int(current or 0) + delta)
            _attempt(lambda: h.run(lambda db: staff.set_capacity(db, sid, new, **h.deps)))

        @rule(minutes=st.sampled_from(STEP_MINUTES))
        def time_passes(self, minutes: int) -> None:
            self.h.clock.advance(timedelta(minutes=minutes))
            run_due_jobs(self.h.factory, **self.h.deps)

        @rule(declines=st.booleans())
        def second_installments_day(self, declines: bool) -> None:
            """A month later (never past the first week): saved cards charged, or declined and
            sent a link."""
            if self.h.clock.now() >= from_local(datetime(2027, 6, 1, 0, 0)):
                return
            self.gateway.decline_saved_cards(declines)
            self.h.clock.advance(timedelta(days=31))
            run_due_jobs(self.h.factory, **self.h.deps)
            self.gateway.decline_saved_cards(False)

        def _lines(self, statuses: list[LineStatus]) -> list[tuple[int, int]]:
            children = {c: f for f, c in self.people}

            def q(db: Session) -> list[tuple[int, int]]:
                rows = db.execute(
                    select(Line.id, Line.person_id)
                    .where(Line.status.in_(statuses), Line.person_id.in_(list(children)))
                    .order_by(Line.id)
                ).all()
                return [(line_id, children[person]) for line_id, person in rows]

            return self.h.run(q)

        # ------------------------------------------------------------------ invariants

        @invariant()
        def the_books_add_up(self) -> None:
            TALLY["steps"] += 1
            assert self.gateway.refused == []
            # A charge whose confirmation is still on its way is not the backend's yet.
            in_flight = {c.charge_id for c in self.pending}
            ledger = {k: v for k, v in self.gateway.ledger().items() if k not in in_flight}
            found = self.h.run(lambda db: problems(db, ledger))
            assert found == [], "\n".join(found)

        @invariant()
        def places_are_exact_and_one_per_child_and_session(self) -> None:
            self.h.assert_within_capacity()
            self.h.assert_counters_match()
            twice = self.h.run(
                lambda db: db.execute(
                    select(Line.person_id, Line.session_id)
                    .where(Line.status.in_(list(PLACE_HOLDING)))
                    .group_by(Line.person_id, Line.session_id)
                    .having(func.count(Line.id) > 1)
                ).all()
            )
            assert twice == []

        def teardown(self) -> None:
            self.h.factory.kw["bind"].dispose()

    return Accounts


def test_accounts_add_up_under_any_sequence_of_events(
    db_engine: Engine, clock: ManualClock
) -> None:
    postgres = db_engine.dialect.name == "postgresql"
    TALLY.update(dict.fromkeys(TALLY, 0))
    run_state_machine_as_test(
        machine_for(db_engine, clock),
        settings=settings(
            max_examples=6 if postgres else 15,
            stateful_step_count=30,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    print(
        f"\naccounts machine ({db_engine.dialect.name}): {TALLY['runs']} runs, "
        f"{TALLY['steps']} checks of the books, {TALLY['orders']} orders, "
        f"{TALLY['links_paid']} links paid, {TALLY['paid']} payments kept, "
        f"{TALLY['duplicates']} second payments refunded, {TALLY['late']} late payments "
        f"refunded, {TALLY['refused']} refusals"
    )
