"""A new payment link for an order the family still owes on (« j'ai pas reçu mon lien »,
« le lien est expiré », « ma carte a été refusée »).

The link's address stays the order's (`/p/<pay_token>`); what is renewed is its expiry and the
installment it pays. An unpaid order is renewed while its places are still held, or free again:
holds and offers past their deadline are released first (and offered to the waitlist, which
has its turn before this family), then a released line retakes its places when they are still
free. If any line cannot, nothing changes (`places_released`): the parent registers again.
The holds are extended to the new link's expiry, as a checkout does. A partly paid order gets
a link for its next installment (paying it early, or again after a refused card).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from backend.adapters.clock import Clock
from backend.adapters.gateway import PaymentGateway
from backend.db.models import InstallmentStatus, Line, LineStatus, Order, OrderStatus
from backend.domain import holds
from backend.domain.errors import RegistrationError
from backend.services import capacity, orders, outbox, queries, settlement, views, waitlist
from backend.settings import Settings

UNPAID = (OrderStatus.AWAITING_PAYMENT, OrderStatus.EXPIRED)
RENEWABLE = (*UNPAID, OrderStatus.PARTIALLY_PAID)
HOLDING = (LineStatus.HELD, LineStatus.OFFERED)


def renew_link(
    db: Session,
    family_id: int,
    order_id: int,
    *,
    clock: Clock,
    settings: Settings,
    gateway: PaymentGateway,
) -> dict[str, Any]:
    """`<Order>` with `payment_url` and its new `pay_link_expires_at`; the link is sent again
    (SMS and courriel). Raises not_found, nothing_due (paid, cancelled, refunded, deferred),
    places_released (an unpaid order whose places went to someone else)."""
    order = db.get(Order, order_id)
    if order is None or order.family_id != family_id:
        raise RegistrationError("not_found")
    if order.status not in RENEWABLE:
        raise RegistrationError("nothing_due", status=order.status.value)
    scope = {line.session_id for line in settlement.order_lines(db, order)}
    capacity.lock_sessions(db, scope)
    waitlist.expire_and_cascade(
        db, clock=clock, settings=settings, gateway=gateway, session_ids=scope
    )
    db.refresh(order)
    lines = [
        line for line in settlement.order_lines(db, order) if line.status != LineStatus.CANCELLED
    ]
    for line in lines:
        db.refresh(line)
    due = next(
        (
            i
            for i in sorted(order.installments, key=lambda i: i.seq)
            if i.status in (InstallmentStatus.SCHEDULED, InstallmentStatus.FAILED)
        ),
        None,
    )
    if due is None or not lines:
        raise RegistrationError("nothing_due", status=order.status.value)
    now = clock.now()
    if due.status == InstallmentStatus.FAILED:
        expires = now + timedelta(hours=settings.offer_hours)
    else:
        expires = now + timedelta(minutes=settings.pay_link_minutes)
    if order.status in UNPAID:
        _hold_again(db, order, lines, expires)
    orders.open_checkout(db, order, due, expires)
    outbox.enqueue(
        db,
        clock=clock,
        family=queries.get_family(db, family_id),
        kind="payment_link",
        params={
            "order_id": order.id,
            "total_cents": order.total_cents,
            "due_now_cents": due.amount_cents,
            "url": views.payment_url(settings, order),
            "expires_at": views.iso(expires),
            "installments": views.installment_dicts(order),
        },
    )
    db.flush()
    return views.order_dict(db, order, settings)


def _hold_again(db: Session, order: Order, lines: list[Line], expires: Any) -> None:
    """Every line of an unpaid order holds its places until `expires`, or the whole request is
    refused (the error rolls back the places retaken so far)."""
    for line in lines:
        if line.status == LineStatus.HELD:
            line.hold_expires_at = holds.extended(line.hold_expires_at, expires)
        elif line.status == LineStatus.OFFERED:
            line.offer_expires_at = holds.extended(line.offer_expires_at, expires)
        elif (
            line.status == LineStatus.RELEASED
            and not settlement.registered_elsewhere(db, line)
            and capacity.take_line_places(db, line)
        ):
            capacity.move(db, line, [LineStatus.RELEASED], LineStatus.HELD, hold_expires_at=expires)
        else:
            raise RegistrationError("places_released", order_id=order.id)
    if order.status == OrderStatus.EXPIRED:
        orders.set_order_status(order, OrderStatus.AWAITING_PAYMENT)
