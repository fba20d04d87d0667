"""Each try at paying an installment through the provider, recorded before the provider is called.

A row is written and committed before the payment is created, and the provider's payment id is
written and committed before the payment is confirmed: a crash between two steps leaves a row a
job can reconcile (retrieve the payment, record what happened), never money taken without a
record. The provider may ignore idempotency keys, so a retry of the same (installment, attempt)
retrieves the stored payment instead of creating another.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, stored_enum


class AttemptStatus(enum.StrEnum):
    STARTED = "started"  # recorded; the provider has not answered yet (or we crashed)
    CREATED = "created"  # the provider's payment exists, not confirmed yet
    REQUIRES_ACTION = "requires_action"  # the parent's bank asks for authentication
    SUCCEEDED = "succeeded"
    DECLINED = "declined"


class PaymentAttempt(Base):
    __tablename__ = "payment_attempt"
    __table_args__ = (UniqueConstraint("installment_id", "attempt"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    installment_id: Mapped[int] = mapped_column(ForeignKey("installment.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    off_session: Mapped[bool] = mapped_column(default=False)
    amount_cents: Mapped[int] = mapped_column(Integer)
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    payment_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[AttemptStatus] = mapped_column(stored_enum(AttemptStatus))
    decline_code: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
