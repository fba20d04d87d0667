"""Who may act: a family's one-time codes and sessions, the city's staff accounts, their
sessions and the audit log of what they did. Only hashes of codes and tokens are kept."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.db.base import Base, stored_enum
from backend.db.notifications import Channel


class ChallengeStatus(enum.StrEnum):
    OPEN = "open"
    VERIFIED = "verified"
    LOCKED = "locked"
    EXPIRED = "expired"


# --------------------------------------------------------------------------- identification


class IdentityChallenge(Base):
    """A one-time code sent to the phone (or courriel) on file. Only its hash is kept."""

    __tablename__ = "identity_challenge"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # None when the client number/phone did not match: the answer looks the same anyway.
    family_id: Mapped[int | None] = mapped_column(ForeignKey("family.id"))
    code_hash: Mapped[str] = mapped_column(String(64))
    channel: Mapped[Channel] = mapped_column(stored_enum(Channel))
    status: Mapped[ChallengeStatus] = mapped_column(stored_enum(ChallengeStatus))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    resends: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    # Keyed hashes (HMAC with LINK_SECRET) of what the caller typed and of where it came from:
    # the per-hour limits count these rows, so every backend worker sees the same counts, and
    # the table never holds a phone or a client number someone merely tried.
    phone_key: Mapped[str | None] = mapped_column(String(64))
    client_key: Mapped[str | None] = mapped_column(String(64))
    address_key: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_identity_challenge_phone_key", "phone_key", "created_at"),
        Index("ix_identity_challenge_client_key", "client_key", "created_at"),
        Index("ix_identity_challenge_address_key", "address_key", "created_at"),
    )


class FamilySession(Base):
    """A family session token (only its SHA-256 is stored) issued after identification."""

    __tablename__ = "family_session"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    via: Mapped[str] = mapped_column(String(20))  # "code", "widget", "phone"


# --------------------------------------------------------------------------- city staff


class StaffAccount(Base):
    """A person of the city's staff. The password is kept as an argon2id hash only."""

    __tablename__ = "staff_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))  # backend.domain.roles.Role
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # Wrong passwords in a row; at the limit, logins are refused until `locked_until`.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)

    groups: Mapped[list[StaffGroup]] = relationship(
        order_by="StaffGroup.group_id", cascade="all, delete-orphan"
    )


class StaffGroup(Base):
    """A group an animator is assigned to: they see its children's roster."""

    __tablename__ = "staff_group"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_account.id"), primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("activity_group.id"), primary_key=True)


class StaffSession(Base):
    """A staff login (browser cookie) or a programmatic token; only hashes are stored.

    A cookie session also has a CSRF token (its hash here) that every change must send back in
    a header. Revoked at logout or by the CLI; refused after `expires_at`."""

    __tablename__ = "staff_session"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_account.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # "cookie", "token"
    csrf_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class AuditEntry(Base):
    """One staff action that touched money or personal data, written in the action's own
    transaction. `detail` is small and structured, never health data nor contact details."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime)  # the backend's clock
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_account.id"), index=True)
    actor: Mapped[str] = mapped_column(String(80))  # the username, as it was then
    via: Mapped[str] = mapped_column(String(10))  # "api", "cli"
    action: Mapped[str] = mapped_column(String(40))
    target_type: Mapped[str] = mapped_column(String(30))
    target_id: Mapped[str] = mapped_column(String(40))
    family_id: Mapped[int | None] = mapped_column(Integer, index=True)
    detail: Mapped[str] = mapped_column(Text, default="{}")  # JSON object
