"""What a family asks the help desk about its own file: each child's registrations (confirmed,
held, offered, waitlisted with their rank), its orders and what is still due, and when.

A read: nothing is released or changed here (the catalog's rule), so a line whose hold ran out
but that the job has not released yet still shows as held, with its `hold_expires_at`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.adapters.clock import Clock
from backend.db.models import Cart, InstallmentStatus, Line, Order, OrderStatus
from backend.domain.states import ACTIVE
from backend.services import queries, views
from backend.settings import Settings

# Orders with something still to pay.
OWING = (OrderStatus.AWAITING_PAYMENT, OrderStatus.PARTIALLY_PAID)
LIVE_INSTALLMENTS = (InstallmentStatus.SCHEDULED, InstallmentStatus.FAILED)


def family_lines(db: Session, family_id: int) -> list[Line]:
    """The family's registrations still alive (in a cart, offered, waitlisted or confirmed)."""
    return list(
        db.scalars(
            select(Line)
            .join(Cart, Cart.id == Line.cart_id)
            .where(Cart.family_id == family_id, Line.status.in_(list(ACTIVE)))
            .order_by(Line.id)
            .options(*views.LINE_VIEW_LOADS)
        ).unique()
    )


def _order(db: Session, order: Order, settings: Settings, clock: Clock) -> dict[str, Any]:
    view = views.order_dict(db, order, settings)
    view["link_valid"] = order.status in OWING and order.pay_link_expires_at > clock.now()
    view["created_at"] = views.iso(order.created_at)
    return view


def status_view(db: Session, family_id: int, *, clock: Clock, settings: Settings) -> dict[str, Any]:
    """`{"children": [{"id", "first_name", "lines": [<Line>]}], "orders": [<Order>…],
    "balance": {"due_cents", "installments": [{"order_id", "seq", "due_on", "amount_cents",
    "status"}]}}`; orders newest first."""
    family = queries.get_family(db, family_id)
    by_child: dict[int, list[dict[str, Any]]] = {}
    for line in views.line_dicts(db, family_lines(db, family_id)):
        by_child.setdefault(int(line["child_id"]), []).append(line)
    children = [
        {"id": m.id, "first_name": m.first_name, "lines": by_child.get(m.id, [])}
        for m in family.members
        if not m.is_adult
    ]
    orders = list(
        db.scalars(select(Order).where(Order.family_id == family_id).order_by(Order.id.desc()))
    )
    owing = [
        {
            "order_id": o.id,
            "seq": i.seq,
            "due_on": views.iso(i.due_on),
            "amount_cents": i.amount_cents,
            "status": i.status.value,
        }
        for o in sorted(orders, key=lambda o: o.id)
        if o.status in OWING
        for i in o.installments
        if i.status in LIVE_INSTALLMENTS
    ]
    return {
        "children": children,
        "orders": [_order(db, o, settings, clock) for o in orders],
        "balance": {"due_cents": sum(i["amount_cents"] for i in owing), "installments": owing},
    }
