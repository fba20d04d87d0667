"""A deferred season: a waitlist offer asks for no payment, and switching the season to normal
plans its orders again from that day, for that season alone. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.adapters.clock import ManualClock, from_local
from backend.db.models import (
    CapacityPool,
    Cart,
    Category,
    Group,
    Installment,
    InstallmentStatus,
    Line,
    LineStatus,
    Order,
    OrderStatus,
    PaymentMode,
    Program,
    Season,
)
from backend.db.models import Session as ActivitySession
from backend.services import catalog, staff
from tests.integration.core.helpers import Harness, make_harness
from tests.integration.money.fake_gateway import FakeGateway
from tests.integration.money.scenarios import JULIE, LEA, RIVIERE, fill, hold, order_for

ERABLES = "Parc des Érables"
THOMAS = ("Thomas", "Tremblay")


@pytest.fixture
def h(session_factory: sessionmaker[Session], clock: ManualClock) -> Harness:
    harness = make_harness(session_factory, clock)
    harness.gateway = FakeGateway()  # type: ignore[assignment]
    return harness


def _season_id(h: Harness) -> int:
    return int(h.run(lambda db: catalog.season_view(db, clock=h.clock)["id"]))


def _mode(h: Harness, season_id: int, mode: str) -> dict[str, object]:
    return h.run(lambda db: staff.set_payment_mode(db, season_id, mode, **h.deps))


def test_a_waitlist_offer_in_a_deferred_season_asks_for_no_payment(h: Harness) -> None:
    _mode(h, _season_id(h), "deferred")
    week = h.camp_session(ERABLES, "7-8 ans", 2)
    fill(h, week)
    hold(h, JULIE, THOMAS, [week], wait=True)
    h.run(lambda db: staff.set_capacity(db, week, 1, **h.deps))

    thomas = h.child_id(*THOMAS)
    line = h.run(
        lambda db: db.scalars(
            select(Line).where(Line.session_id == week, Line.person_id == thomas)
        ).one()
    )
    assert line.status == LineStatus.OFFERED and line.order_id is None
    gateway: FakeGateway = h.gateway  # type: ignore[assignment]
    assert gateway.setups == {} and gateway.payments == {}
    offers = h.notifications("waitlist_offer", h.family_id(JULIE))
    assert offers and all("/p/" not in n.body and "payez" not in n.body for n in offers)
    assert all("aucun paiement" in n.body for n in offers)
    # Passing the order keeps the place, still without a payment.
    order_id = order_for(h, JULIE)
    assert h.run(lambda db: db.get(Order, order_id).status) == OrderStatus.DEFERRED  # type: ignore[union-attr]
    line_status = h.run(lambda db: db.get(Line, line.id).status)  # type: ignore[union-attr]
    assert line_status == LineStatus.CONFIRMED and gateway.payments == {}


def _other_season_deferred_order(h: Harness) -> int:
    """A deferred order of another season (fall soccer), due on dates set when it was taken."""
    family_id, child_id = h.family_id(JULIE), h.child_id(*LEA)

    def create(db: Session) -> int:
        season = Season(
            name="Automne 2027",
            year=2027,
            residents_open_at=from_local(datetime(2027, 4, 1, 19, 0)),
            nonresidents_open_at=from_local(datetime(2027, 4, 1, 19, 0)),
            closes_at=from_local(datetime(2027, 9, 1, 0, 0)),
            payment_mode=PaymentMode.DEFERRED,
        )
        program = Program(season=season, name="Soccer", category=Category.SPORT)
        group = Group(program=program, label="U10", min_age=8, max_age=10)
        pool = CapacityPool(capacity=10, taken=1)
        session = ActivitySession(
            group=group,
            number=1,
            starts_on=date(2027, 9, 11),
            ends_on=date(2027, 11, 13),
            pool=pool,
            price_resident_cents=8000,
            price_nonresident_cents=12000,
        )
        cart = Cart(family_id=family_id, created_at=h.clock.now())
        db.add_all([season, program, group, pool, session, cart])
        db.flush()
        order = Order(
            family_id=family_id,
            status=OrderStatus.DEFERRED,
            total_cents=8000,
            installment_count=1,
            terms_accepted_at=h.clock.now(),
            pay_token="autre-saison",
            pay_link_expires_at=h.clock.now(),
            created_at=h.clock.now(),
        )
        order.installments.append(
            Installment(
                seq=1,
                due_on=date(2027, 4, 20),
                amount_cents=8000,
                status=InstallmentStatus.SCHEDULED,
                attempts=0,
            )
        )
        db.add(order)
        db.flush()
        db.add(
            Line(
                cart_id=cart.id,
                person_id=child_id,
                session_id=session.id,
                status=LineStatus.CONFIRMED,
                base_price_cents=8000,
                created_at=h.clock.now(),
                order_id=order.id,
            )
        )
        return order.id

    return h.run(create)


def test_switching_to_normal_plans_that_season_again_from_that_day(h: Harness) -> None:
    season_id = _season_id(h)
    _mode(h, season_id, "deferred")
    hold(h, JULIE, LEA, [h.camp_session(RIVIERE, "9-12 ans", n) for n in (2, 3)])
    order_id = order_for(h, JULIE, n=2)
    other = _other_season_deferred_order(h)

    def plan(oid: int) -> tuple[OrderStatus, list[tuple[int, date, int, str]]]:
        def q(db: Session) -> tuple[OrderStatus, list[tuple[int, date, int, str]]]:
            order = db.get(Order, oid)
            assert order is not None
            return order.status, [
                (i.seq, i.due_on, i.amount_cents, i.status.value) for i in order.installments
            ]

        return h.run(q)

    assert plan(order_id)[1] == [
        (1, date(2027, 4, 20), 9500, "scheduled"),
        (2, date(2027, 5, 20), 9500, "scheduled"),
    ]
    h.clock.advance(timedelta(days=20))  # 10 May
    assert _mode(h, season_id, "normal")["payment_links_sent"] == 1
    assert plan(order_id) == (
        OrderStatus.AWAITING_PAYMENT,
        [
            (1, date(2027, 5, 10), 9500, "scheduled"),
            (2, date(2027, 6, 10), 9500, "scheduled"),
        ],
    )
    assert plan(other) == (OrderStatus.DEFERRED, [(1, date(2027, 4, 20), 8000, "scheduled")])


def test_switching_to_normal_too_close_to_the_first_week_plans_one_payment(h: Harness) -> None:
    season_id = _season_id(h)
    _mode(h, season_id, "deferred")
    hold(h, JULIE, LEA, [h.camp_session(RIVIERE, "9-12 ans", n) for n in (2, 3)])
    order_id = order_for(h, JULIE, n=2)
    h.clock.set(from_local(datetime(2027, 7, 4, 10, 0)))  # the day before week 2 starts
    _mode(h, season_id, "normal")
    rows = h.run(
        lambda db: [
            (i.seq, i.due_on, i.amount_cents, i.status.value)
            for i in db.get(Order, order_id).installments  # type: ignore[union-attr]
        ]
    )
    assert rows == [
        (1, date(2027, 7, 4), 19000, "scheduled"),
        (2, date(2027, 5, 20), 0, "cancelled"),
    ]
