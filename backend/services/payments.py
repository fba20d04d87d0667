"""What a provider payment's outcome does to an order: paid, refunded, or only recorded.

Webhooks are deduplicated on the gateway's event id (a GatewayEvent row); beyond that, every
handler is idempotent on state (an installment already paid stays paid), so events may arrive
twice or in any order. What a captured payment does to the order (one capture per installment,
the lines it confirms, its allocation, what a late payment refunds) is `services.settlement`.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.adapters.clock import Clock
from backend.adapters.gateway import GatewayError, Payment, PaymentGateway, PaymentStatus
from backend.db.models import (
    GatewayEvent,
    Installment,
    InstallmentStatus,
    Order,
)
from backend.db.payment_attempts import PaymentAttempt
from backend.domain.states import check_installment_transition
from backend.services import confirmation, outbox, queries, refunds, settlement, views
from backend.services import payment_attempts as attempts
from backend.settings import Settings

log = logging.getLogger(__name__)


def record_event(db: Session, *, event_id: str, kind: str, clock: Clock) -> bool:
    """Remember a webhook event id; False when it was already seen (then do nothing)."""
    if db.get(GatewayEvent, event_id) is not None:
        return False
    db.add(GatewayEvent(event_id=event_id, kind=kind, received_at=clock.now()))
    db.flush()  # a concurrent duplicate fails here on the primary key and rolls back
    return True


def set_installment(inst: Installment, new: InstallmentStatus) -> None:
    check_installment_transition(inst.status, new)
    inst.status = new


def _find_installment(db: Session, payment: Payment) -> Installment | None:
    """The installment a provider payment pays: through its recorded attempt, else through the
    tags written on it at creation (a crash may have left the attempt without the payment id)."""
    attempt = db.scalar(select(PaymentAttempt).where(PaymentAttempt.payment_id == payment.id))
    if attempt is not None:
        return db.get(Installment, attempt.installment_id)
    if payment.tags is None:
        return None
    inst = db.get(Installment, payment.tags.installment_id)
    if inst is None or inst.order_id != payment.tags.order_id:
        return None
    return inst


def with_card_digits(gateway: PaymentGateway, payment: Payment) -> Payment:
    """`payment` with its card's last four digits, asked of the provider (outside any
    transaction) for the confirmation; unchanged when the provider cannot say."""
    if payment.status != PaymentStatus.SUCCEEDED or payment.payment_method_id is None:
        return payment
    try:
        last4 = gateway.card_last4(payment.payment_method_id)
    except GatewayError as error:
        log.warning("card digits of payment %s not read (%s)", payment.id, error.kind)
        return payment
    return replace(payment, card_last4=last4)


def on_payment_succeeded(
    db: Session,
    *,
    event_id: str | None,
    payment: Payment,
    clock: Clock,
    settings: Settings,
) -> dict[str, Any]:
    """A provider payment succeeded (reported by the hosted page's flow, the job, or a webhook;
    `event_id` is the webhook's, None otherwise). Idempotent: a replay changes nothing.

    Returns `{"outcome": "paid"|"refunded"|"duplicate"|"already_paid"|"amount_mismatch"|
    "unknown_payment"|"not_ours", "order_id", "status"}`. "unknown_payment" (tagged by us, but
    no installment matches) asks the caller to refund it once this transaction is committed."""
    charge_id = payment.id
    amount_cents = payment.amount_cents
    if event_id is not None and not record_event(
        db, event_id=event_id, kind="payment_intent.succeeded", clock=clock
    ):
        return {"outcome": "duplicate", "order_id": None, "status": None}
    if payment.tags is None and payment.foreign_app:
        return {"outcome": "not_ours", "order_id": None, "status": None}
    inst = _find_installment(db, payment)
    if inst is None:
        outcome = "not_ours" if payment.tags is None else "unknown_payment"
        return {"outcome": outcome, "order_id": None, "status": None}
    attempts.record_success(db, inst, payment, clock=clock)
    order = inst.order
    family = queries.get_family(db, order.family_id)
    if charge_id == inst.charge_id:
        # Recorded already, whatever happened since (a cancellation may have refunded it).
        return {"outcome": "already_paid", "order_id": order.id, "status": order.status.value}
    if inst.status == InstallmentStatus.PAID:
        if amount_cents > 0:
            # A second, distinct payment for what was already paid (two tabs, say): not kept.
            _refund_unmatched(
                db, order, inst, charge_id, amount_cents, "duplicate_payment", clock
            )
        return {"outcome": "already_paid", "order_id": order.id, "status": order.status.value}
    if amount_cents != inst.amount_cents:
        # Paid, but not what this installment asks: never confirms. The money goes back in
        # full, the installment stays due (its link still works until it expires), the family
        # is told, and the log keeps the facts for staff.
        log.warning(
            "payment %s paid %s cents for installment %s of order %s which asks %s: refunded",
            payment.id,
            amount_cents,
            inst.seq,
            order.id,
            inst.amount_cents,
        )
        if amount_cents > 0:
            _refund_unmatched(
                db, order, inst, charge_id, amount_cents, "amount_mismatch", clock
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
    if payment.card_last4:
        order.card_last4 = payment.card_last4  # the confirmation names the card
    captured = settlement.capture(
        db, inst, charge_id=charge_id, clock=clock, settings=settings
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
    )


def on_payment_failed(
    db: Session, *, event_id: str | None, payment: Payment, clock: Clock
) -> dict[str, Any]:
    """A provider payment was declined: recorded on its attempt, nothing else changes (on the
    hosted page the parent may try another card until the link expires; a declined later
    installment is handled by the job that charged it)."""
    if event_id is not None and not record_event(
        db, event_id=event_id, kind="payment_intent.payment_failed", clock=clock
    ):
        return {"outcome": "duplicate", "order_id": None}
    inst = _find_installment(db, payment)
    if inst is None:
        return {
            "outcome": "not_ours" if payment.tags is None else "unknown_payment",
            "order_id": None,
        }
    attempts.record_decline(db, inst, payment, clock=clock)
    return {"outcome": "declined", "order_id": inst.order_id, "decline_code": payment.decline_code}
