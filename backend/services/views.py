"""The JSON shapes of docs/API.md for lines and orders, read from the database."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from backend.db.models import (
    Group,
    InstallmentStatus,
    Line,
    LineOption,
    Order,
    OrderStatus,
    Refund,
    RefundStatus,
)
from backend.db.models import Session as ActivitySession
from backend.services.queries import waitlist_position, waitlist_positions
from backend.settings import Settings


def iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


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


def payment_url(settings: Settings, order: Order) -> str:
    return f"{settings.public_base_url}/p/{order.pay_token}"


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


def refunded_cents(db: Session, order: Order) -> tuple[int, int]:
    """What was given back (or is being: recorded, the provider asked after the commit) on
    charges of this order (cancellations, late payments), and what the provider refused to
    give back (staff owe it to the family); in one statement. A payment of the wrong amount or
    a duplicate, refunded, never counted as paid in the first place."""
    failed = Refund.status == RefundStatus.FAILED
    given, refused = db.execute(
        select(
            func.coalesce(func.sum(case((failed, 0), else_=Refund.amount_cents)), 0),
            func.coalesce(func.sum(case((failed, Refund.amount_cents), else_=0)), 0),
        ).where(
            Refund.order_id == order.id,
            Refund.reason.in_(("cancellation", "late_payment")),
        )
    ).one()
    return int(given or 0), int(refused or 0)


def order_dict(db: Session, order: Order, settings: Settings | None = None) -> dict[str, Any]:
    # Paid = every installment captured (refunded ones included) minus what went back.
    captured = (InstallmentStatus.PAID, InstallmentStatus.REFUNDED)
    refunded, refused = refunded_cents(db, order)
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
        "refund_failed_cents": refused,
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


def message_line(db: Session, line: Line) -> dict[str, Any]:
    """What a text or courriel says about a line (no health data, ever)."""
    d = line_dict(db, line)
    keys = ("child", "program", "group", "site", "week", "starts_on", "ends_on", "options")
    return {k: d[k] for k in keys} | {"price_cents": d["price_cents"]}
