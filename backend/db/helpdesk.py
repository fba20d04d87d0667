"""The help desk's own rows: callback requests left for staff, and the one-time codes that
prove a new parent holds a phone or a courriel before a family file is created for them."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.access import ChallengeStatus
from backend.db.base import Base, stored_enum
from backend.db.notifications import Channel


class CallbackStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class CallbackRequest(Base):
    """A parent asked to be called back outside the help desk's hours. The summary is
    structured (topic, step reached, a child's first name): never the parent's own words,
    which could carry health data or a NAS."""

    __tablename__ = "callback_request"
    __table_args__ = (Index("ix_callback_request_status", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int | None] = mapped_column(ForeignKey("family.id"), index=True)
    phone: Mapped[str] = mapped_column(String(20))  # E.164: the number staff call
    topic: Mapped[str] = mapped_column(String(30))
    step: Mapped[str] = mapped_column(String(30))
    child_first_name: Mapped[str | None] = mapped_column(String(80))
    status: Mapped[CallbackStatus] = mapped_column(stored_enum(CallbackStatus))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # The help desk's next opening when the request was made: what the parent was told.
    expected_at: Mapped[datetime] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_by: Mapped[str | None] = mapped_column(String(80))


class ContactCheck(Base):
    """A code sent to a phone or courriel that no file needs to hold yet (a new parent, or a
    parent who lost the client number). Only the code's HMAC is kept; the contact itself is
    kept until the check is used, since the new file is created with it."""

    __tablename__ = "contact_check"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel: Mapped[Channel] = mapped_column(stored_enum(Channel))
    contact: Mapped[str] = mapped_column(String(254))  # E.164 phone or lower-case courriel
    contact_key: Mapped[str] = mapped_column(String(64), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[ChallengeStatus] = mapped_column(stored_enum(ChallengeStatus))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    # Set once verified: until when the verified contact may open a new file.
    usable_until: Mapped[datetime | None] = mapped_column(DateTime)
    family_id: Mapped[int | None] = mapped_column(ForeignKey("family.id"))  # the file it opened
