"""A deferred season switched to normal payment: each of that season's deferred orders gets its
installments planned again from today (`backend.domain.installments.replan`: the first due
today, the second a month later or the day before the first week) and a payment link. Orders of
other seasons are not touched."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.adapters.clock import Clock, local_date
from backend.db.models import (
    Group,
    Installment,
    InstallmentStatus,
    Line,
    Order,
    OrderStatus,
    Program,
    Season,
)
from backend.db.models import Session as ActivitySession
from backend.domain import installments as terms_rule
from backend.domain.states import PLACE_HOLDING
from backend.services import orders, outbox, queries, views
from backend.settings import Settings


def deferred_orders(db: Session, season: Season) -> list[Order]:
    in_season = (
        select(Line.order_id)
        .join(ActivitySession, ActivitySession.id == Line.session_id)
        .join(Group, Group.id == ActivitySession.group_id)
        .join(Program, Program.id == Group.program_id)
        .where(Program.season_id == season.id, Line.order_id.is_not(None))
    )
    return list(
        db.scalars(
            select(Order)
            .where(Order.status == OrderStatus.DEFERRED, Order.id.in_(in_season))
            .order_by(Order.id)
        )
    )


def _replan(db: Session, order: Order, *, clock: Clock) -> None:
    """The installments still to come, due from today, for what the order's lines still cost."""
    lines = [
        line
        for line in db.scalars(select(Line).where(Line.order_id == order.id).order_by(Line.id))
        if line.status in PLACE_HOLDING
    ]
    upcoming = [i for i in order.installments if i.status == InstallmentStatus.SCHEDULED]
    plan = terms_rule.replan(orders.paid_lines(lines), local_date(clock), len(upcoming))
    for inst, due in zip(upcoming, plan, strict=False):
        inst.due_on, inst.amount_cents = due.due_on, due.amount_cents
    for inst in upcoming[len(plan) :]:
        inst.amount_cents = 0
        inst.status = InstallmentStatus.CANCELLED
    for due in plan[len(upcoming) :]:
        order.installments.append(
            Installment(
                seq=due.seq,
                due_on=due.due_on,
                amount_cents=due.amount_cents,
                status=InstallmentStatus.SCHEDULED,
                attempts=0,
            )
        )
    order.installment_count = len(plan)
    order.total_cents = sum(d.amount_cents for d in plan)
    db.flush()


def open_payment(db: Session, season: Season, *, clock: Clock, settings: Settings) -> int:
    """Replan and send a payment link for every deferred order of `season`; how many."""
    links = 0
    for order in deferred_orders(db, season):
        _replan(db, order, clock=clock)
        first = next(i for i in order.installments if i.status == InstallmentStatus.SCHEDULED)
        expires = clock.now() + timedelta(hours=settings.offer_hours)
        orders.set_order_status(order, OrderStatus.AWAITING_PAYMENT)
        orders.open_checkout(db, order, first, expires)
        outbox.enqueue(
            db,
            clock=clock,
            family=queries.get_family(db, order.family_id),
            kind="payment_link",
            params={
                "order_id": order.id,
                "total_cents": order.total_cents,
                "due_now_cents": first.amount_cents,
                "url": views.payment_url(settings, order),
                "expires_at": views.iso(expires),
                "installments": views.installment_dicts(order),
            },
        )
        links += 1
    return links
