"""Refunds asked of the provider once the transaction that decided them is committed.

A refund is a `refund` row, written PENDING with its idempotency key in the transaction that
decides it (`backend.services.refunds.refund_charge`); after the commit the caller (the HTTP
route, the job, the CLI) runs `send_pending`: each row is claimed (its try counted) and
committed, the provider is asked, and the answer recorded. A crash between two steps leaves a
pending row that the job asks about again after `RETRY_AFTER`: first whether the provider
made it (`find_refund`: a provider may ignore the key), and only then makes it. So money never
goes out without its row, and never twice for one.

A refund the provider refuses, or one still unanswered after `MAX_TRIES`, is FAILED: logged
for staff and shown on the order (`refund_failed_cents`); the cancellation it belongs to
stands (the parent is owed the money: staff refund it from the provider's dashboard).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, cast

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from backend.adapters.clock import Clock
from backend.adapters.gateway import GatewayError, PaymentGateway, RefundResult
from backend.db.engine import run_transaction
from backend.db.models import Refund, RefundStatus

log = logging.getLogger(__name__)

# A try whose answer never came (the process died, the network failed) is asked about again
# after this; past MAX_TRIES tries it is left to staff.
RETRY_AFTER = timedelta(minutes=15)
MAX_TRIES = 5


@dataclass(frozen=True)
class _Claimed:
    id: int
    order_id: int
    charge_id: str
    amount_cents: int
    key: str
    tries: int  # counting this one

    @property
    def retry(self) -> bool:
        return self.tries > 1


def _claim(db: Session, *, now: datetime, retry_before: datetime | None) -> list[_Claimed]:
    """Count a try on each pending row due one; only one sender wins each row."""
    due = Refund.tries == 0
    if retry_before is not None:
        due = or_(due, Refund.updated_at < retry_before)
    rows = db.execute(
        select(
            Refund.id,
            Refund.order_id,
            Refund.charge_id,
            Refund.amount_cents,
            Refund.idempotency_key,
            Refund.tries,
        )
        .where(Refund.status == RefundStatus.PENDING, due)
        .order_by(Refund.id)
    ).all()
    claimed: list[_Claimed] = []
    for row_id, order_id, charge_id, amount, key, tries in rows:
        result = db.execute(
            update(Refund)
            .where(
                Refund.id == row_id,
                Refund.tries == tries,
                Refund.status == RefundStatus.PENDING,
            )
            .values(tries=tries + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if cast(CursorResult[Any], result).rowcount == 1:
            claimed.append(_Claimed(row_id, order_id, charge_id, amount, key, tries + 1))
    return claimed


def _record(
    db: Session,
    *,
    claimed: _Claimed,
    result: RefundResult | None,
    failure: str | None,
    now: datetime,
) -> str:
    row = db.get(Refund, claimed.id)
    if row is None or row.status != RefundStatus.PENDING:
        return "recorded"
    row.updated_at = now
    if result is not None and result.ok:
        row.status = RefundStatus.SUCCEEDED
        row.gateway_refund_id = result.id
        return "sent"
    if result is None and failure is None:
        return "pending"
    row.status = RefundStatus.FAILED
    row.failure_code = (failure or (result.decline_code if result else None) or "refused")[:40]
    log.error(
        "refund %s of %s cents on order %s failed (%s): staff must refund it",
        row.id,
        row.amount_cents,
        row.order_id,
        row.failure_code,
    )
    return "failed"


def _ask(gateway: PaymentGateway, claimed: _Claimed) -> tuple[RefundResult | None, str | None]:
    """The provider's answer, or (None, why it failed for good) / (None, None): try later."""
    try:
        if claimed.retry:
            found = gateway.find_refund(
                payment_id=claimed.charge_id, idempotency_key=claimed.key
            )
            if found is not None:
                return found, None
        return (
            gateway.refund(
                payment_id=claimed.charge_id,
                amount_cents=claimed.amount_cents,
                idempotency_key=claimed.key,
            ),
            None,
        )
    except GatewayError as error:
        log.warning("refund %s not sent (%s): tried again later", claimed.id, error.kind)
        if not error.retryable or claimed.tries >= MAX_TRIES:
            return None, error.kind
        return None, None


def send_pending(
    factory: sessionmaker[Session],
    *,
    gateway: PaymentGateway,
    clock: Clock,
    retry_stale: bool = False,
) -> dict[str, int]:
    """Ask the provider for every refund recorded and not asked yet (and, `retry_stale`, the
    job's run: for those whose answer never came). Returns counts of sent, failed, pending."""
    retry_before = clock.now() - RETRY_AFTER if retry_stale else None
    claimed = run_transaction(
        factory, lambda db: _claim(db, now=clock.now(), retry_before=retry_before)
    )
    counts = {"sent": 0, "failed": 0, "pending": 0}
    for one in claimed:
        result, failure = _ask(gateway, one)
        outcome = run_transaction(
            factory, partial(_record, claimed=one, result=result, failure=failure, now=clock.now())
        )
        if outcome in counts:
            counts[outcome] += 1
    return counts
