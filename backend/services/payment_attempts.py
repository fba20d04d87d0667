"""The database side of each try at paying an installment through the provider.

Each function runs inside one short transaction, between two provider calls that run outside
any: start (recorded before the provider is called), created (the payment id, recorded before it
is confirmed), then success or decline. See `backend.db.payment_attempts`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.adapters.clock import Clock
from backend.adapters.gateway import Payment, PaymentStatus, PaymentTags
from backend.db.models import Installment, Order
from backend.db.payment_attempts import AttemptStatus, PaymentAttempt

# Attempts still waiting for an answer from the provider, that a job reconciles.
OPEN = (AttemptStatus.STARTED, AttemptStatus.CREATED, AttemptStatus.REQUIRES_ACTION)


@dataclass(frozen=True)
class StartedAttempt:
    """What the provider calls that follow need, read from a committed attempt row."""

    id: int
    tags: PaymentTags
    idempotency_key: str
    amount_cents: int
    payment_id: str | None  # set: the payment exists already, retrieve it, never create another
    status: AttemptStatus
    # Recorded by an earlier try: its create may have reached the provider with the answer
    # lost (then `find_payment` finds it).
    resumed: bool = False


def _started(row: PaymentAttempt, order_id: int, resumed: bool = False) -> StartedAttempt:
    return StartedAttempt(
        id=row.id,
        tags=PaymentTags(order_id=order_id, installment_id=row.installment_id, attempt=row.attempt),
        idempotency_key=row.idempotency_key,
        amount_cents=row.amount_cents,
        payment_id=row.payment_id,
        status=row.status,
        resumed=resumed,
    )


def start(
    db: Session, inst: Installment, *, key: str, off_session: bool, clock: Clock
) -> StartedAttempt:
    """The attempt recorded under `key` (the same try, retried: the same row, `resumed`), or a
    new one."""
    row = db.scalar(select(PaymentAttempt).where(PaymentAttempt.idempotency_key == key))
    if row is not None:
        return _started(row, inst.order_id, resumed=True)
    last = db.scalar(
        select(func.max(PaymentAttempt.attempt)).where(PaymentAttempt.installment_id == inst.id)
    )
    now = clock.now()
    row = PaymentAttempt(
        installment_id=inst.id,
        attempt=(last or 0) + 1,
        off_session=off_session,
        amount_cents=inst.amount_cents,
        idempotency_key=key,
        payment_id=None,
        status=AttemptStatus.STARTED,
        created_at=now,
        updated_at=now,
    )
    db.add(row)
    db.flush()  # a concurrent twin fails here on the unique key and its transaction retries
    return _started(row, inst.order_id)


def record_created(db: Session, attempt_id: int, payment: Payment, *, clock: Clock) -> None:
    row = db.get(PaymentAttempt, attempt_id)
    if row is None:
        return
    if row.payment_id is None:
        row.payment_id = payment.id
    _apply(row, payment, clock)


def _apply(row: PaymentAttempt, payment: Payment, clock: Clock) -> None:
    if row.status in (AttemptStatus.SUCCEEDED, AttemptStatus.DECLINED):
        return  # final: a late or replayed answer changes nothing
    if payment.status == PaymentStatus.SUCCEEDED:
        row.status = AttemptStatus.SUCCEEDED
    elif payment.status == PaymentStatus.REQUIRES_ACTION:
        row.status = AttemptStatus.REQUIRES_ACTION
    elif payment.status in (PaymentStatus.REQUIRES_PAYMENT_METHOD, PaymentStatus.CANCELED):
        row.status = AttemptStatus.DECLINED
        row.decline_code = (payment.decline_code or "declined")[:40]
    else:
        row.status = AttemptStatus.CREATED
    row.updated_at = clock.now()


def _row_for(db: Session, inst: Installment, payment: Payment) -> PaymentAttempt | None:
    row = db.scalar(select(PaymentAttempt).where(PaymentAttempt.payment_id == payment.id))
    if row is None and payment.tags is not None:
        row = db.scalar(
            select(PaymentAttempt).where(
                PaymentAttempt.installment_id == inst.id,
                PaymentAttempt.attempt == payment.tags.attempt,
            )
        )
        if row is not None and row.payment_id is None:
            row.payment_id = payment.id  # the crash between create and record, repaired
    return row


def record_success(db: Session, inst: Installment, payment: Payment, *, clock: Clock) -> None:
    row = _row_for(db, inst, payment)
    if row is not None and row.payment_id == payment.id:
        _apply(row, payment, clock)


def record_decline(db: Session, inst: Installment, payment: Payment, *, clock: Clock) -> None:
    row = _row_for(db, inst, payment)
    if row is not None and row.payment_id == payment.id:
        _apply(row, payment, clock)


@dataclass(frozen=True)
class LostAttempt:
    """An attempt recorded without the provider's payment id: its create call may have reached
    the provider and the answer been lost."""

    id: int
    customer_id: str
    tags: PaymentTags


def lost_attempts(
    db: Session, *, older_than: datetime, newer_than: datetime
) -> list[LostAttempt]:
    """Attempts started between `newer_than` and `older_than` that never recorded a payment
    id, on orders with a provider customer (the reconciliation job looks their payment up)."""
    rows = db.execute(
        select(PaymentAttempt, Installment.order_id, Order.gateway_customer_id)
        .join(Installment, Installment.id == PaymentAttempt.installment_id)
        .join(Order, Order.id == Installment.order_id)
        .where(
            PaymentAttempt.status == AttemptStatus.STARTED,
            PaymentAttempt.payment_id.is_(None),
            PaymentAttempt.updated_at < older_than,
            PaymentAttempt.updated_at >= newer_than,
            Order.gateway_customer_id.is_not(None),
        )
        .order_by(PaymentAttempt.id)
    ).all()
    return [
        LostAttempt(row.id, str(customer), _started(row, int(order_id)).tags)
        for row, order_id, customer in rows
    ]


def open_attempts(db: Session, *, older_than: datetime) -> list[tuple[int, str]]:
    """(attempt id, payment id) of attempts still waiting for an answer, created before
    `older_than`: the reconciliation job retrieves each from the provider."""
    rows = db.execute(
        select(PaymentAttempt.id, PaymentAttempt.payment_id)
        .where(
            PaymentAttempt.status.in_(OPEN),
            PaymentAttempt.payment_id.is_not(None),
            PaymentAttempt.updated_at < older_than,
        )
        .order_by(PaymentAttempt.id)
    ).all()
    return [(int(i), str(p)) for i, p in rows]
