"""The outbox: every texto and courriel, written in the transaction of what it announces."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, stored_enum


class Channel(enum.StrEnum):
    SMS = "sms"
    EMAIL = "email"
    CHAT = "chat"  # into an open conversation; the recipient is its Rasa conversation id


class NotificationStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    SUPPRESSED = "suppressed"  # the recipient opted out of SMS
    SENDING = "sending"  # claimed by a dispatcher until `next_attempt_at` (its lease)
    EXPIRED = "expired"  # its code, link or offer lapsed before it could be delivered


# --------------------------------------------------------------------------- notifications


class Notification(Base):
    """The outbox: written in the same transaction as what it announces, sent afterwards."""

    __tablename__ = "notification"
    __table_args__ = (
        Index("ix_notification_pending", "status", "id"),
        # The SMS queue in the order it is sent (backend/domain/sms_pacing.py).
        Index("ix_notification_sms_queue", "channel", "status", "priority", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int | None] = mapped_column(ForeignKey("family.id"), index=True)
    channel: Mapped[Channel] = mapped_column(stored_enum(Channel))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(40))  # "otp", "payment_link", "offer", …
    status: Mapped[NotificationStatus] = mapped_column(stored_enum(NotificationStatus))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    provider_id: Mapped[str | None] = mapped_column(String(64))
    # Delivery: when a dispatcher may (re)try it, why the last try failed (a short label, never
    # the body), and until when its content holds (a code, a link, an offer).
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(String(40))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Sending order and cost on the SMS numbers (backend/domain/sms_pacing.py).
    priority: Mapped[int] = mapped_column(Integer, default=2)
    segments: Mapped[int] = mapped_column(Integer, default=1)


class SmsPace(Base):
    """When the sending numbers are next free for the outbox: one row, moved forward under a row
    lock by whichever dispatcher hands a text over, so every worker shares one rate."""

    __tablename__ = "sms_pace"

    id: Mapped[str] = mapped_column(String(20), primary_key=True)
    next_free_at: Mapped[datetime] = mapped_column(DateTime)


class SmsOptOut(Base):
    __tablename__ = "sms_opt_out"

    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    opted_out_at: Mapped[datetime] = mapped_column(DateTime)


# Retention deletes outbox messages by age (backend/services/retention.py); the jobs ask every
# few seconds whether one is due.
Index("ix_notification_created_at", Notification.created_at)
