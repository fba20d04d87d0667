"""Payment terms, checkout and orders (docs/API.md, "Checkout and payment").

Checkout bills the cart's held and offered lines (waitlisted ones stay waiting, unbilled). A
new checkout supersedes an unpaid order holding the same lines (a parent who changes their mind
between one and two installments gets a fresh link; the old one stops working).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.adapters.clock import Clock, local_date
from backend.adapters.gateway import PaymentGateway
from backend.db.models import InstallmentStatus, LineStatus, Order, OrderStatus, PaymentMode
from backend.domain import holds
from backend.domain import installments as terms_rule
from backend.domain.errors import RegistrationError
from backend.services import capacity, orders, outbox, queries, views, waiting_room, waitlist
from backend.services.cart import PAYABLE, cancel_pending_order, cart_lines, shown_lines
from backend.settings import Settings


def terms_view(db: Session, family_id: int, *, clock: Clock, settings: Settings) -> dict[str, Any]:
    """Payable total, allowed installment counts (with the refusal reason) and both plans."""
    lines = shown_lines(db, family_id)
    payable = [line for line in lines if line.status in PAYABLE]
    t = terms_rule.terms(orders.paid_lines(payable), local_date(clock))
    return {
        "payable_cents": t.payable_cents,
        "allowed": list(t.allowed),
        "refused_reason": t.refused_reason,
        "plans": {
            str(count): [
                {"seq": d.seq, "due_on": views.iso(d.due_on), "amount_cents": d.amount_cents}
                for d in plan
            ]
            for count, plan in t.plans.items()
        },
        "payment_mode": queries.current_season(db).payment_mode.value,
    }


def checkout(
    db: Session,
    family_id: int,
    *,
    installments: int,
    accept_terms: bool,
    card_on_file_consent: bool,
    idempotency_key: str | None,
    clock: Clock,
    settings: Settings,
    gateway: PaymentGateway,
) -> dict[str, Any]:
    """Create the order for the cart's held and offered lines and its payment link.

    Raises terms_not_accepted, installments_not_allowed (reason), cart_empty, waitlist_only.
    The same idempotency_key returns the same order. Deferred season: status "deferred"."""
    family = queries.get_family(db, family_id)
    previous = _same_key(db, family.id, idempotency_key)
    if previous is not None:
        return _checkout_result(db, previous, settings)
    # Holds that ran out since the parent last looked are given back first (every pool of the
    # cart's sessions locked first, in canonical order).
    scope = {line.session_id for line in cart_lines(db, family_id)}
    waiting_room.guard(db, family_id, scope, clock=clock)
    capacity.lock_sessions(db, scope)
    # A checkout with the same key may have committed while this one waited for the locks:
    # it is the answer (superseding it would cancel the order the parent is paying).
    previous = _same_key(db, family.id, idempotency_key)
    if previous is not None:
        return _checkout_result(db, previous, settings)
    waitlist.expire_and_cascade(
        db, clock=clock, settings=settings, gateway=gateway, session_ids=scope
    )
    lines = cart_lines(db, family_id, for_view=True)
    if not lines:
        raise RegistrationError("cart_empty")
    payable = [line for line in lines if line.status in PAYABLE]
    if not payable:
        raise RegistrationError("waitlist_only")
    if not accept_terms:
        raise RegistrationError("terms_not_accepted")
    t = terms_rule.terms(orders.paid_lines(payable), local_date(clock))
    if installments not in (1, 2):
        raise RegistrationError("invalid_request", fields={"installments": [1, 2]})
    if installments not in t.allowed:
        raise RegistrationError("installments_not_allowed", reason=t.refused_reason)
    for line in payable:
        cancel_pending_order(db, line.order_id)

    now = clock.now()
    season = payable[0].session.group.program.season
    deferred = season.payment_mode == PaymentMode.DEFERRED
    link_expires = now + timedelta(minutes=settings.pay_link_minutes)
    order = orders.create_order(
        db,
        family,
        payable,
        count=installments,
        card_on_file_consent=card_on_file_consent,
        link_expires_at=link_expires,
        idempotency_key=idempotency_key or None,
        deferred=deferred,
        clock=clock,
    )
    if deferred:
        # Taken now, charged when the city switches the season to normal payment.
        for line in payable:
            capacity.move(
                db, line, PAYABLE, LineStatus.CONFIRMED, hold_expires_at=None, offer_expires_at=None
            )
        outbox.enqueue(
            db,
            clock=clock,
            family=family,
            kind="deferred_registered",
            params={
                "order_id": order.id,
                "total_cents": order.total_cents,
                "lines": [views.message_line(db, line) for line in payable],
            },
        )
    else:
        for line in payable:
            if line.status == LineStatus.HELD:
                line.hold_expires_at = holds.extended(line.hold_expires_at, link_expires)
            else:
                line.offer_expires_at = holds.extended(line.offer_expires_at, link_expires)
        first = order.installments[0]
        outbox.enqueue(
            db,
            clock=clock,
            family=family,
            kind="payment_link",
            params={
                "order_id": order.id,
                "total_cents": order.total_cents,
                "due_now_cents": first.amount_cents,
                "url": views.payment_url(settings, order),
                "expires_at": views.iso(link_expires),
                "installments": views.installment_dicts(order),
            },
        )
    db.flush()
    return _checkout_result(db, order, settings)


def _same_key(db: Session, family_id: int, key: str | None) -> Order | None:
    """The order an earlier checkout with this idempotency key created, if any."""
    if not key:
        return None
    previous = db.scalar(select(Order).where(Order.idempotency_key == key))
    if previous is not None and previous.family_id != family_id:
        raise RegistrationError("not_found")
    return previous


def _checkout_result(db: Session, order: Order, settings: Settings) -> dict[str, Any]:
    view = views.order_dict(db, order, settings)
    return {
        "order_id": order.id,
        "status": order.status.value,
        "total_cents": order.total_cents,
        "installments": view["installments"],
        "payment_url": view["payment_url"],
        "pay_link_expires_at": (
            None if order.status == OrderStatus.DEFERRED else views.iso(order.pay_link_expires_at)
        ),
        "lines": view["lines"],
    }


def order_view(db: Session, family_id: int, order_id: int) -> dict[str, Any]:
    """`{"id", "status", "total_cents", "paid_cents", "due_cents", "installments", "lines"}`."""
    order = db.get(Order, order_id)
    if order is None or order.family_id != family_id:
        raise RegistrationError("not_found")
    return views.order_dict(db, order)


def payment_page_view(db: Session, pay_token: str, *, clock: Clock) -> dict[str, Any]:
    """What the hosted payment page (/p/<token>) needs: the installment the link pays now.

    Raises not_found (unknown token, or nothing left to pay), payment_link_expired."""
    order = db.scalar(select(Order).where(Order.pay_token == pay_token))
    if order is None:
        raise RegistrationError("not_found")
    due = next(
        (
            i
            for i in order.installments
            if i.gateway_session_id == order.gateway_session_id
            and i.status in (InstallmentStatus.SCHEDULED, InstallmentStatus.FAILED)
        ),
        None,
    )
    payable_states = (OrderStatus.AWAITING_PAYMENT, OrderStatus.PARTIALLY_PAID)
    if due is None or order.status not in payable_states:
        raise RegistrationError("not_found")
    if order.pay_link_expires_at <= clock.now():
        raise RegistrationError("payment_link_expired")
    view = views.order_dict(db, order)
    return {
        "order_id": order.id,
        "family_id": order.family_id,
        "status": order.status.value,
        "amount_cents": due.amount_cents,
        "installment_seq": due.seq,
        "gateway_session_id": order.gateway_session_id,
        "save_card": order.card_on_file_consent and order.installment_count > 1,
        "expires_at": views.iso(order.pay_link_expires_at),
        "total_cents": order.total_cents,
        "installments": view["installments"],
        "lines": view["lines"],
    }
