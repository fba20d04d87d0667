"""Lookups, JSON shapes and order creation shared by the core services."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased, joinedload, selectinload

from backend.adapters.clock import Clock, local_date
from backend.adapters.gateway import PaymentGateway
from backend.db.models import (
    Cart,
    Category,
    Family,
    Group,
    Installment,
    InstallmentStatus,
    Line,
    LineOption,
    LineStatus,
    Order,
    OrderStatus,
    Refund,
    Season,
)
from backend.db.models import Session as ActivitySession
from backend.domain import installments as terms_rule
from backend.domain.errors import RegistrationError
from backend.domain.states import check_order_transition
from backend.services import outbox
from backend.settings import Settings


def iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def get_family(db: Session, family_id: int) -> Family:
    family = db.get(Family, family_id)
    if family is None:
        raise RegistrationError("not_found")
    return family


def current_season(db: Session) -> Season:
    """The season being registered for: the latest one (the demo has exactly one)."""
    season = db.scalars(select(Season).order_by(Season.closes_at.desc(), Season.id.desc())).first()
    if season is None:
        raise RegistrationError("not_found")
    return season


def family_cart(db: Session, family: Family, now: datetime) -> Cart:
    """Each family has one cart; lines leave it by status (confirmed, released…), not by cart."""
    cart = db.scalars(
        select(Cart).where(Cart.family_id == family.id, Cart.is_open.is_(True)).order_by(Cart.id)
    ).first()
    if cart is None:
        cart = Cart(family_id=family.id, is_open=True, created_at=now)
        db.add(cart)
        db.flush()
    return cart


def waitlist_position(db: Session, line: Line) -> int | None:
    """Rank among the entries of the same session still waiting (1..n, FIFO, then id)."""
    return waitlist_positions(db, [line]).get(line.id)


def waitlist_positions(db: Session, lines: Sequence[Line]) -> dict[int, int]:
    """line id -> rank among the entries of its session still waiting (1..n, FIFO, then id),
    for the waitlisted ones among `lines`, in one statement (a cart shows several)."""
    waiting = [
        line.id
        for line in lines
        if line.status == LineStatus.WAITLISTED and line.waitlisted_at is not None
    ]
    if not waiting:
        return {}
    ahead_line = aliased(Line)
    ahead = (
        select(func.count(ahead_line.id))
        .where(
            ahead_line.session_id == Line.session_id,
            ahead_line.status == LineStatus.WAITLISTED,
            or_(
                ahead_line.waitlisted_at < Line.waitlisted_at,
                and_(ahead_line.waitlisted_at == Line.waitlisted_at, ahead_line.id < Line.id),
            ),
        )
        .correlate(Line)
        .scalar_subquery()
    )
    rows = db.execute(select(Line.id, ahead).where(Line.id.in_(sorted(waiting)))).all()
    return {int(line_id): int(n or 0) + 1 for line_id, n in rows}


# What line_dict reads, loaded with the lines instead of one query per line and relation.
LINE_VIEW_LOADS = (
    selectinload(Line.options).joinedload(LineOption.session_option),
    joinedload(Line.session)
    .joinedload(ActivitySession.group)
    .joinedload(Group.program),
    joinedload(Line.session).joinedload(ActivitySession.group).joinedload(Group.site),
    joinedload(Line.person),
)


def line_price(line: Line) -> int:
    return line.base_price_cents + sum(o.price_cents for o in line.options)


_ASK = object()


def line_dict(db: Session, line: Line, position: Any = _ASK) -> dict[str, Any]:
    """A line as the API shows it. `position`: its waitlist rank when the caller computed the
    ranks of several lines at once (`line_dicts`); asked for otherwise."""
    session = line.session
    group = session.group
    program = group.program
    return {
        "id": line.id,
        "child_id": line.person_id,
        "child": line.person.first_name,
        "program": program.name,
        "category": program.category.value,
        "group": group.label,
        "site": group.site.name if group.site else None,
        "session_id": session.id,
        "week": session.number,
        "starts_on": iso(session.starts_on),
        "ends_on": iso(session.ends_on),
        "status": line.status.value,
        "waitlist_position": waitlist_position(db, line) if position is _ASK else position,
        "hold_expires_at": iso(line.hold_expires_at),
        "offer_expires_at": iso(line.offer_expires_at),
        "options": [
            {"code": o.session_option.code, "price_cents": o.price_cents} for o in line.options
        ],
        "tshirt_size": line.tshirt_size,
        "price_cents": line_price(line),
        "order_id": line.order_id,
    }


def line_dicts(db: Session, lines: Sequence[Line]) -> list[dict[str, Any]]:
    """`line_dict` of each line, the waitlist ranks in one statement."""
    positions = waitlist_positions(db, lines)
    return [line_dict(db, line, positions.get(line.id)) for line in lines]


def paid_lines(lines: Sequence[Line]) -> list[terms_rule.PaidLine]:
    return [
        terms_rule.PaidLine(
            is_day_camp=line.session.group.program.category == Category.DAY_CAMP,
            price_cents=line_price(line),
            starts_on=line.session.starts_on,
        )
        for line in lines
    ]


def payment_url(settings: Settings, order: Order) -> str:
    return f"{settings.public_base_url}/p/{order.pay_token}"


def new_pay_token(db: Session) -> str:
    while True:
        token = secrets.token_urlsafe(8)  # 11 url-safe characters: short enough for an SMS
        if db.scalar(select(Order.id).where(Order.pay_token == token)) is None:
            return token


def set_order_status(order: Order, new: OrderStatus) -> None:
    check_order_transition(order.status, new)
    order.status = new


def create_order(
    db: Session,
    family: Family,
    lines: Sequence[Line],
    *,
    count: int,
    card_on_file_consent: bool,
    link_expires_at: datetime,
    idempotency_key: str | None,
    deferred: bool,
    clock: Clock,
    gateway: PaymentGateway | None,
) -> Order:
    """An order for `lines` with its installments; in a normal season, a gateway checkout
    for the first installment. The caller validated `count` against the terms."""
    now = clock.now()
    plan = terms_rule.terms(paid_lines(lines), local_date(clock)).plans[count]
    order = Order(
        family_id=family.id,
        status=OrderStatus.DEFERRED if deferred else OrderStatus.AWAITING_PAYMENT,
        total_cents=sum(d.amount_cents for d in plan),
        installment_count=count,
        terms_accepted_at=now,
        card_on_file_consent=card_on_file_consent,
        pay_token=new_pay_token(db),
        pay_link_expires_at=link_expires_at,
        created_at=now,
        idempotency_key=idempotency_key,
    )
    db.add(order)
    for due in plan:
        order.installments.append(
            Installment(
                seq=due.seq,
                due_on=due.due_on,
                amount_cents=due.amount_cents,
                status=InstallmentStatus.SCHEDULED,
                attempts=0,
            )
        )
    db.flush()
    for line in lines:
        line.order_id = order.id
    if not deferred:
        assert gateway is not None
        open_checkout(db, order, order.installments[0], link_expires_at, gateway=gateway)
    db.flush()
    return order


def open_checkout(
    db: Session,
    order: Order,
    installment: Installment,
    expires_at: datetime,
    *,
    gateway: PaymentGateway,
) -> None:
    """A gateway checkout session paying `installment`, reachable at the order's short link."""
    session = gateway.create_checkout(
        order_id=order.id,
        amount_cents=installment.amount_cents,
        expires_at=expires_at,
        save_card=order.card_on_file_consent and order.installment_count > 1,
        idempotency_key=f"order-{order.id}-installment-{installment.seq}-{installment.attempts}",
    )
    installment.gateway_session_id = session.id
    order.gateway_session_id = session.id
    order.pay_link_expires_at = expires_at


def installment_dicts(order: Order) -> list[dict[str, Any]]:
    return [
        {
            "seq": i.seq,
            "due_on": iso(i.due_on),
            "amount_cents": i.amount_cents,
            "status": i.status.value,
        }
        for i in order.installments
    ]


def refunded_cents(db: Session, order: Order) -> int:
    """What was given back on charges of this order (cancellations, late payments); a payment
    of the wrong amount or a duplicate, refunded, never counted as paid in the first place."""
    return int(
        db.scalar(
            select(func.coalesce(func.sum(Refund.amount_cents), 0)).where(
                Refund.order_id == order.id,
                Refund.reason.in_(("cancellation", "late_payment")),
            )
        )
        or 0
    )


def order_dict(db: Session, order: Order, settings: Settings | None = None) -> dict[str, Any]:
    # Paid = every installment captured (refunded ones included) minus what went back.
    captured = (InstallmentStatus.PAID, InstallmentStatus.REFUNDED)
    refunded = refunded_cents(db, order)
    paid = sum(i.amount_cents for i in order.installments if i.status in captured) - refunded
    live = {InstallmentStatus.SCHEDULED, InstallmentStatus.FAILED}
    due = sum(i.amount_cents for i in order.installments if i.status in live)
    lines = db.scalars(
        select(Line)
        .where(Line.order_id == order.id)
        .order_by(Line.id)
        .options(*LINE_VIEW_LOADS)
    ).all()
    result: dict[str, Any] = {
        "id": order.id,
        "order_id": order.id,
        "status": order.status.value,
        "total_cents": order.total_cents,
        "paid_cents": paid,
        "refunded_cents": refunded,
        "due_cents": due,
        "installments": installment_dicts(order),
        "lines": line_dicts(db, lines),
        "pay_link_expires_at": iso(order.pay_link_expires_at),
    }
    if settings is not None:
        result["payment_url"] = (
            None if order.status == OrderStatus.DEFERRED else payment_url(settings, order)
        )
    return result


def notify(
    db: Session, *, clock: Clock, family: Family, kind: str, params: dict[str, Any]
) -> None:
    # Through the module attribute so the outbox implementation can evolve independently.
    outbox.enqueue(db, clock=clock, family=family, kind=kind, params=params)


def message_line(db: Session, line: Line) -> dict[str, Any]:
    """What a message says about a line (no health data, ever)."""
    d = line_dict(db, line)
    keys = ("child", "program", "group", "site", "week", "starts_on", "ends_on", "options")
    return {k: d[k] for k in keys} | {"price_cents": d["price_cents"]}


def later(now: datetime, *, minutes: int = 0, hours: int = 0) -> datetime:
    return now + timedelta(minutes=minutes, hours=hours)
