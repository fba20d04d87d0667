"""What city staff may do (docs/API.md, "Staff")."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend.adapters.clock import Clock
from backend.adapters.gateway import PaymentGateway
from backend.db.models import (
    AccountStatus,
    CapacityPool,
    Family,
    InstallmentStatus,
    Line,
    LineStatus,
    Order,
    OrderStatus,
    PaymentMode,
    Season,
)
from backend.db.models import Session as ActivitySession
from backend.domain.errors import RegistrationError
from backend.domain.states import PLACE_HOLDING
from backend.services import capacity, messages, orders, queries, refunds, views, waitlist
from backend.services.cart import cancel_pending_order
from backend.services.family import family_dict
from backend.settings import Settings


def approve_family(db: Session, client_number: str, *, clock: Clock) -> dict[str, Any]:
    """Pending -> approved. Returns `<Family>`. Raises not_found."""
    family = db.scalar(select(Family).where(Family.client_number == client_number))
    if family is None:
        raise RegistrationError("not_found")
    if family.status != AccountStatus.APPROVED:
        family.status = AccountStatus.APPROVED
        messages.notify(db, clock=clock, family=family, kind="account_approved", params={})
    db.flush()
    return family_dict(db, family)


def _session_counts(db: Session, session: ActivitySession) -> dict[str, Any]:
    cap, taken = capacity.counts(db, [session.pool_id])[session.pool_id]
    return {
        "id": session.id,
        "capacity": cap,
        "taken": taken,
        "available": cap - taken,
        "waitlist_length": waitlist.waitlist_length(db, session.id),
    }


def set_capacity(
    db: Session,
    session_id: int,
    capacity_: int,
    *,
    clock: Clock,
    settings: Settings,
    gateway: PaymentGateway,
) -> dict[str, Any]:
    """New capacity (not below the places taken: invalid_request); raised places go to the
    waitlist. Returns `{"id", "capacity", "taken", "available", "waitlist_length"}`."""
    session = db.get(ActivitySession, session_id)
    if session is None:
        raise RegistrationError("not_found")
    if capacity_ < 0:
        raise RegistrationError("invalid_request", fields={"capacity": "min_0"})
    capacity.lock_sessions(db, [session.id])
    # Conditional, like every capacity change: a concurrent hold cannot slip under the new cap.
    result = db.execute(
        update(CapacityPool)
        .where(CapacityPool.id == session.pool_id, CapacityPool.taken <= capacity_)
        .values(capacity=capacity_)
        .execution_options(synchronize_session=False)
    )
    if capacity._rowcount(result) != 1:
        taken = capacity.counts(db, [session.pool_id])[session.pool_id][1]
        raise RegistrationError("invalid_request", fields={"capacity": f"min_{taken}"})
    waitlist.offer_free_places(db, session.id, clock=clock, settings=settings, gateway=gateway)
    db.flush()
    return _session_counts(db, session)


def cancel_line(
    db: Session, line_id: int, *, clock: Clock, settings: Settings, gateway: PaymentGateway
) -> dict[str, Any]:
    """Cancel any line; its place goes to the waitlist. A registration that was paid (or
    accepted in a deferred season) is settled (`backend.services.refunds`): its share of what
    was paid is refunded through the gateway, its share of what is still due is removed (an
    installment left at 0 $ is cancelled), and the payer is told ("registration_cancelled").
    Returns `<Line>` plus `refunded_cents` and `cancelled_installments`. Raises not_found,
    refund_failed (nothing is changed then)."""
    line = db.get(Line, line_id)
    if line is None:
        raise RegistrationError("not_found")
    capacity.lock_sessions(db, [line.session_id])
    was = line.status
    if was in (LineStatus.CANCELLED, LineStatus.RELEASED):
        return views.line_dict(db, line) | {"refunded_cents": 0, "cancelled_installments": []}
    if not capacity.move(db, line, [was], LineStatus.CANCELLED):
        raise RegistrationError("not_found")
    order = db.get(Order, line.order_id) if line.order_id is not None else None
    settlement = refunds.Settlement()
    if order is not None and was == LineStatus.CONFIRMED and order.status in refunds.SETTLED:
        settlement = refunds.settle_cancelled_line(
            db, order, line, clock=clock, settings=settings, gateway=gateway
        )
        messages.notify(
            db,
            clock=clock,
            family=queries.get_family(db, order.family_id),
            kind="registration_cancelled",
            params={
                "order_id": order.id,
                "line": messages.message_line(db, line),
                "refunded_cents": settlement.refunded_cents,
                "cancelled_installments": settlement.cancelled_installments,
                "remaining_due": settlement.remaining_due,
            },
        )
    else:
        cancel_pending_order(db, line.order_id)
    if was in PLACE_HOLDING:
        capacity.release_line_places(db, line)
        waitlist.offer_free_places(
            db, line.session_id, clock=clock, settings=settings, gateway=gateway
        )
    db.flush()
    return views.line_dict(db, line) | {
        "refunded_cents": settlement.refunded_cents,
        "cancelled_installments": settlement.cancelled_installments,
    }


def set_payment_mode(
    db: Session,
    season_id: int,
    mode: str,
    *,
    clock: Clock,
    settings: Settings,
    gateway: PaymentGateway,
) -> dict[str, Any]:
    """normal|deferred. Deferred -> normal sends a payment link for every deferred order
    (valid `offer_hours`, the first installment due today)."""
    season = db.get(Season, season_id)
    if season is None:
        raise RegistrationError("not_found")
    try:
        new = PaymentMode(mode)
    except ValueError as exc:
        modes = ["normal", "deferred"]
        raise RegistrationError("invalid_request", fields={"payment_mode": modes}) from exc
    links = 0
    if season.payment_mode == PaymentMode.DEFERRED and new == PaymentMode.NORMAL:
        deferred = db.scalars(
            select(Order).where(Order.status == OrderStatus.DEFERRED).order_by(Order.id)
        ).all()
        for order in deferred:
            first = next(i for i in order.installments if i.status == InstallmentStatus.SCHEDULED)
            expires = clock.now() + timedelta(hours=settings.offer_hours)
            orders.set_order_status(order, OrderStatus.AWAITING_PAYMENT)
            orders.open_checkout(db, order, first, expires, gateway=gateway)
            messages.notify(
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
    season.payment_mode = new
    db.flush()
    return {"id": season.id, "payment_mode": season.payment_mode.value, "payment_links_sent": links}
