"""Later installments charged on their date, and payments whose answer we never recorded.

Same discipline as the hosted page (`backend.services.card_payments`): each step's database
work in its own short transaction, every provider call between two of them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.adapters.clock import Clock, local_date
from backend.adapters.gateway import GatewayError, Payment, PaymentGateway, PaymentStatus
from backend.db.engine import run_transaction
from backend.db.models import Installment, InstallmentStatus, Order, OrderStatus
from backend.services import orders, outbox, payments, queries, settlement, views
from backend.services import payment_attempts as attempts
from backend.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")

# An attempt older than this without a final answer is asked about (the page or the job that
# started it has surely finished or died); one that never recorded its payment is looked up
# for LOOK_UP_FOR after it started, then left to staff.
RECONCILE_AFTER = timedelta(minutes=15)
LOOK_UP_FOR = timedelta(days=2)


@dataclass(frozen=True)
class _Charge:
    installment_id: int
    customer_id: str | None
    card: str | None
    attempt: attempts.StartedAttempt | None


def _due(db: Session, clock: Clock) -> list[_Charge]:
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
    out: list[_Charge] = []
    for inst in due:
        order = inst.order
        attempt = None
        if order.card_token and order.gateway_customer_id:
            # One key per installment: a job run that died mid-way retries the same attempt.
            attempt = attempts.start(
                db, inst, key=f"installment-{inst.id}-off-session", off_session=True, clock=clock
            )
        out.append(_Charge(inst.id, order.gateway_customer_id, order.card_token, attempt))
    return out


def charge_due_installments(
    factory: sessionmaker[Session],
    *,
    clock: Clock,
    settings: Settings,
    gateway: PaymentGateway,
) -> dict[str, Any]:
    """Charge the saved card for installments due on or before today (city date).

    A decline (or no card on file) marks the installment FAILED and sends the payer a payment
    link for it ("installment_failed"); the job does not retry a failed installment by itself."""

    def tx(fn: Callable[[Session], T]) -> T:
        return run_transaction(factory, fn)

    charged = failed = 0
    for charge in tx(lambda db: _due(db, clock)):
        payment: Payment | None = None
        if charge.attempt is not None and charge.customer_id and charge.card:
            try:
                payment = _charge(gateway, charge)
            except GatewayError as error:
                # Unreachable or refused outright: nothing recorded as paid or failed, the
                # next run tries the same attempt again.
                log.warning("installment %s not charged (%s)", charge.installment_id, error.kind)
                continue
            tx(partial(_record_created, attempt_id=charge.attempt.id, payment=payment, clock=clock))
        ok = payment is not None and payment.status == PaymentStatus.SUCCEEDED
        tx(
            partial(
                _record,
                installment_id=charge.installment_id,
                payment=payment,
                ok=ok,
                clock=clock,
                settings=settings,
            )
        )
        charged += ok
        failed += not ok
    return {"charged": charged, "failed": failed}


def _record_created(db: Session, *, attempt_id: int, payment: Payment, clock: Clock) -> None:
    attempts.record_created(db, attempt_id, payment, clock=clock)


def _charge(gateway: PaymentGateway, charge: _Charge) -> Payment:
    attempt = charge.attempt
    assert attempt is not None and charge.customer_id and charge.card
    if attempt.payment_id is not None:
        return gateway.retrieve_payment(attempt.payment_id)
    if attempt.resumed:
        # An earlier run's create may have reached the provider, its answer lost.
        found = gateway.find_payment(customer_id=charge.customer_id, tags=attempt.tags)
        if found is not None:
            return found
    return gateway.create_payment(
        customer_id=charge.customer_id,
        payment_method_id=charge.card,
        amount_cents=attempt.amount_cents,
        tags=attempt.tags,
        idempotency_key=attempt.idempotency_key,
        confirm=True,
        off_session=True,
    )


def _record(
    db: Session,
    *,
    installment_id: int,
    payment: Payment | None,
    ok: bool,
    clock: Clock,
    settings: Settings,
) -> None:
    inst = db.get(Installment, installment_id)
    if inst is None or inst.status != InstallmentStatus.SCHEDULED:
        return  # a webhook recorded it meanwhile
    order = inst.order
    inst.attempts += 1
    if ok and payment is not None:
        # Allocated to the lines it pays, like any capture (a late or duplicate one refunded).
        settlement.capture(
            db, inst, charge_id=payment.id, clock=clock, settings=settings
        )
        return
    payments.set_installment(inst, InstallmentStatus.FAILED)
    expires = clock.now() + timedelta(hours=settings.offer_hours)
    orders.open_checkout(db, order, inst, expires)
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
            "decline_code": None if payment is None else payment.decline_code,
        },
    )


def refund_unknown(gateway: PaymentGateway, payment: Payment) -> None:
    """A succeeded payment tagged by us that matches no installment: given back in full."""
    log.warning(
        "payment %s carries our tags (order %s) but matches no installment: refunded",
        payment.id,
        None if payment.tags is None else payment.tags.order_id,
    )
    gateway.refund(
        payment_id=payment.id,
        amount_cents=payment.amount_cents,
        idempotency_key=f"refund-unknown-{payment.id}",
    )


def reconcile(
    factory: sessionmaker[Session],
    *,
    clock: Clock,
    settings: Settings,
    gateway: PaymentGateway,
) -> dict[str, int]:
    """Ask the provider about attempts left without a final answer, and record it: by the
    payment id recorded, or, for an attempt whose create call's answer was lost, by the tags
    written on the payment (`find_payment`)."""
    cutoff = clock.now() - RECONCILE_AFTER

    def read(db: Session) -> tuple[list[tuple[int, str]], list[attempts.LostAttempt]]:
        return (
            attempts.open_attempts(db, older_than=cutoff),
            attempts.lost_attempts(db, older_than=cutoff, newer_than=cutoff - LOOK_UP_FOR),
        )

    pending, lost = run_transaction(factory, read, write=False)
    found: list[tuple[int, Payment]] = []
    for attempt_id, payment_id in pending:
        try:
            found.append((attempt_id, gateway.retrieve_payment(payment_id)))
        except GatewayError as error:
            log.warning("payment %s not reconciled (%s)", payment_id, error.kind)
    for one in lost:
        try:
            payment = gateway.find_payment(customer_id=one.customer_id, tags=one.tags)
        except GatewayError as error:
            log.warning("attempt %s not looked up (%s)", one.id, error.kind)
            continue
        if payment is not None:
            found.append((one.id, payments.with_card_digits(gateway, payment)))
    settled = 0
    for attempt_id, payment in found:
        result = run_transaction(
            factory,
            partial(
                _reconcile_one,
                attempt_id=attempt_id,
                payment=payment,
                clock=clock,
                settings=settings,
            ),
        )
        if result.get("outcome") == "unknown_payment":
            refund_unknown(gateway, payment)
        settled += 1
    return {"reconciled": settled}


def _reconcile_one(
    db: Session,
    *,
    attempt_id: int,
    payment: Payment,
    clock: Clock,
    settings: Settings,
) -> dict[str, Any]:
    attempts.record_created(db, attempt_id, payment, clock=clock)
    if payment.status == PaymentStatus.SUCCEEDED:
        return payments.on_payment_succeeded(
            db, event_id=None, payment=payment, clock=clock, settings=settings
        )
    if payment.status in (PaymentStatus.REQUIRES_PAYMENT_METHOD, PaymentStatus.CANCELED):
        return payments.on_payment_failed(db, event_id=None, payment=payment, clock=clock)
    return {"outcome": "pending"}
