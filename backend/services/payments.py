"""Gateway confirmations and the scheduled second installments.

Webhooks are deduplicated on the gateway's event id (a GatewayEvent row); beyond that, every
handler is idempotent on state (an installment already paid stays paid), so events may arrive
twice or in any order. What a captured payment does to the order (one capture per installment,
the lines it confirms, its allocation, what a late payment refunds) is `services.settlement`.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.adapters.clock import Clock, local_date
from backend.adapters.gateway import PaymentGateway
from backend.db.models import (
    GatewayEvent,
    Installment,
    InstallmentStatus,
    Order,
    OrderStatus,
)
from backend.domain.states import check_installment_transition
from backend.services import confirmation, orders, outbox, queries, refunds, settlement, views
from backend.settings import Settings

log = logging.getLogger(__name__)


def record_event(db: Session, *, event_id: str, kind: str, clock: Clock) -> bool:
    """Remember a webhook event id; False when it was already seen (then do nothing)."""
    if db.get(GatewayEvent, event_id) is not None:
        return False
    db.add(GatewayEvent(event_id=event_id, kind=kind, received_at=clock.now()))
    db.flush()  # a concurrent duplicate fails here on the primary key and rolls back
    return True


def _set_installment(inst: Installment, new: InstallmentStatus) -> None:
    check_installment_transition(inst.status, new)
    inst.status = new


def _find_installment(db: Session, gateway_session_id: str) -> Installment | None:
    inst = db.scalar(
        select(Installment).where(Installment.gateway_session_id == gateway_session_id)
    )
    if inst is not None:
        return inst
    order = db.scalar(select(Order).where(Order.gateway_session_id == gateway_session_id))
    if order is None:
        return None
    return next((i for i in order.installments if i.status != InstallmentStatus.PAID), None)


def on_checkout_completed(
    db: Session,
    *,
    event_id: str,
    gateway_session_id: str,
    charge_id: str,
    card_token: str | None,
    card_last4: str | None,
    amount_cents: int,
    clock: Clock,
    settings: Settings,
    gateway: PaymentGateway,
) -> dict[str, Any]:
    """A checkout session was paid. Idempotent on event_id (a replay changes nothing).

    Returns `{"outcome": "paid"|"refunded"|"duplicate"|"already_paid"|"unknown_session",
    "order_id", "status"}`."""
    if not record_event(db, event_id=event_id, kind="checkout.completed", clock=clock):
        return {"outcome": "duplicate", "order_id": None, "status": None}
    inst = _find_installment(db, gateway_session_id)
    if inst is None:
        return {"outcome": "unknown_session", "order_id": None, "status": None}
    order = inst.order
    family = queries.get_family(db, order.family_id)
    if inst.status == InstallmentStatus.PAID:
        if charge_id != inst.charge_id and amount_cents > 0:
            # A second, distinct payment for what was already paid (two tabs, say): not kept.
            _refund_unmatched(
                db, order, inst, charge_id, amount_cents, "duplicate_payment", clock, gateway
            )
        return {"outcome": "already_paid", "order_id": order.id, "status": order.status.value}
    if amount_cents != inst.amount_cents:
        # Paid, but not what this installment asks: never confirms. The money goes back in
        # full, the installment stays due (its link still works until it expires), the family
        # is told, and the log keeps the facts for staff.
        log.warning(
            "checkout %s paid %s cents for installment %s of order %s which asks %s: refunded",
            gateway_session_id, amount_cents, inst.seq, order.id, inst.amount_cents,
        )
        if amount_cents > 0:
            _refund_unmatched(
                db, order, inst, charge_id, amount_cents, "amount_mismatch", clock, gateway
            )
        outbox.enqueue(
            db,
            clock=clock,
            family=family,
            kind="payment_amount_refunded",
            params={
                "order_id": order.id,
                "amount_cents": amount_cents,
                "due_cents": inst.amount_cents,
                "url": views.payment_url(settings, order),
            },
        )
        db.flush()
        return {"outcome": "amount_mismatch", "order_id": order.id, "status": order.status.value}
    if order.card_on_file_consent and card_token:
        order.card_token = card_token
        order.card_last4 = card_last4
    captured = settlement.capture(
        db, inst, charge_id=charge_id, clock=clock, settings=settings, gateway=gateway
    )
    inst.attempts += 1
    if captured.outcome == "duplicate":
        return {"outcome": "already_paid", "order_id": order.id, "status": order.status.value}
    if captured.rejected:
        outbox.enqueue(
            db,
            clock=clock,
            family=family,
            kind="late_payment_refunded",
            params={
                "order_id": order.id,
                "amount_cents": captured.refunded_cents,
                "lines": [views.message_line(db, line) for line in captured.rejected],
            },
        )
    if not captured.kept:
        db.flush()
        return {"outcome": "refunded", "order_id": order.id, "status": order.status.value}
    outbox.enqueue(
        db,
        clock=clock,
        family=family,
        kind="confirmation",
        params=confirmation.params(db, order, family, captured.kept, inst),
    )
    db.flush()
    return {"outcome": "paid", "order_id": order.id, "status": order.status.value}


def _refund_unmatched(
    db: Session,
    order: Order,
    inst: Installment,
    charge_id: str,
    amount_cents: int,
    reason: str,
    clock: Clock,
    gateway: PaymentGateway,
) -> None:
    refunds.refund_charge(
        db,
        order=order,
        installment=inst,
        line_id=None,
        charge_id=charge_id,
        amount_cents=amount_cents,
        reason=reason,
        idempotency_key=f"refund-{reason}-{charge_id}",
        clock=clock,
        gateway=gateway,
    )


def on_checkout_failed(
    db: Session,
    *,
    event_id: str,
    gateway_session_id: str,
    decline_code: str | None,
    clock: Clock,
    settings: Settings,
) -> dict[str, Any]:
    """A payment attempt on the hosted page was declined: recorded, nothing else changes (the
    parent may try another card until the link expires)."""
    if not record_event(db, event_id=event_id, kind="checkout.failed", clock=clock):
        return {"outcome": "duplicate", "order_id": None}
    inst = _find_installment(db, gateway_session_id)
    if inst is None:
        return {"outcome": "unknown_session", "order_id": None}
    inst.attempts += 1
    return {"outcome": "declined", "order_id": inst.order_id, "decline_code": decline_code}


def charge_due_installments(
    db: Session, *, clock: Clock, settings: Settings, gateway: PaymentGateway
) -> dict[str, Any]:
    """Charge the saved card for installments due on or before today (city date).

    A decline marks the installment FAILED and sends the payer a payment link for it
    ("installment_failed"); the job does not retry a failed installment by itself."""
    today = local_date(clock)
    due = db.scalars(
        select(Installment)
        .join(Order, Order.id == Installment.order_id)
        .where(
            Installment.status == InstallmentStatus.SCHEDULED,
            Installment.due_on <= today,
            Installment.seq > 1,
            Order.status == OrderStatus.PARTIALLY_PAID,
        )
        .order_by(Installment.id)
    ).all()
    charged = failed = 0
    for inst in due:
        order = inst.order
        result = None
        if order.card_token:
            result = gateway.charge_saved_card(
                card_token=order.card_token,
                amount_cents=inst.amount_cents,
                idempotency_key=f"installment-{inst.id}",
            )
        inst.attempts += 1
        if result is not None and result.ok:
            assert result.charge_id is not None
            settlement.capture(
                db, inst, charge_id=result.charge_id, clock=clock, settings=settings,
                gateway=gateway,
            )
            charged += 1
            continue
        _set_installment(inst, InstallmentStatus.FAILED)
        expires = clock.now() + timedelta(hours=settings.offer_hours)
        orders.open_checkout(db, order, inst, expires, gateway=gateway)
        outbox.enqueue(
            db,
            clock=clock,
            family=queries.get_family(db, order.family_id),
            kind="installment_failed",
            params={
                "order_id": order.id,
                "amount_cents": inst.amount_cents,
                "url": views.payment_url(settings, order),
                "expires_at": views.iso(expires),
                "decline_code": None if result is None else result.decline_code,
            },
        )
        failed += 1
    db.flush()
    return {"charged": charged, "failed": failed}
