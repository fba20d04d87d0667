"""Who is calling: the service secret, the staff secret and family session tokens.

A family token is 32 url-safe random characters handed to the bot after identification; only
its SHA-256 is stored (a database leak gives no usable token). It expires after
`settings.family_token_minutes`, or sooner when the parent signs out (`revoke_token`) or staff
close a family's sessions (`revoke_family_sessions`): the row is deleted.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from backend.adapters.clock import Clock
from backend.db.access import FamilySession
from backend.db.models import Family
from backend.domain.errors import RegistrationError

TOKEN_BYTES = 24  # 24 random bytes -> 32 url-safe characters


def secret_matches(given: str | None, expected: str) -> bool:
    """Constant-time comparison; an empty configured secret never matches."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _sep, value = header.strip().partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_family_token(db: Session, family_id: int, *, via: str, clock: Clock, minutes: int) -> str:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = clock.now()
    db.add(
        FamilySession(
            token_hash=_hash(token),
            family_id=family_id,
            created_at=now,
            expires_at=now + timedelta(minutes=minutes),
            via=via,
        )
    )
    db.flush()
    return token


def family_for_token(db: Session, token: str | None, *, clock: Clock) -> int | None:
    """The family a token belongs to, or None if unknown or expired."""
    found = token_session(db, token)
    if found is None or found[1] <= clock.now():
        return None
    return found[0]


def token_session(db: Session, token: str | None) -> tuple[int, datetime] | None:
    """(family id, expiry) of a token, expired or not; None if unknown."""
    if not token or len(token) > 64:
        return None
    row = db.get(FamilySession, _hash(token))
    return None if row is None else (row.family_id, row.expires_at)


def revoke_token(db: Session, token: str) -> bool:
    """End the session of this token (a parent signing out); False if it was not known."""
    result = db.execute(delete(FamilySession).where(FamilySession.token_hash == _hash(token)))
    return bool(getattr(result, "rowcount", 0))


def revoke_family_sessions(db: Session, client_number: str) -> dict[str, int]:
    """End every open session of a family (staff, after a parent reports someone else, or a
    session left open on a shared computer). Backend processes stop accepting those tokens
    within `TokenCache`'s recheck delay."""
    family_id = db.scalar(select(Family.id).where(Family.client_number == client_number))
    if family_id is None:
        raise RegistrationError("not_found")
    result = db.execute(delete(FamilySession).where(FamilySession.family_id == family_id))
    return {"revoked_sessions": int(getattr(result, "rowcount", 0) or 0)}


class TokenCache:
    """Family tokens already seen by this process: (family id, expiry) by token hash.

    Every request of an identified family carries its token; looking it up in the database
    cost each request a transaction and a second trip through the database thread pool (where,
    on registration night, it queued behind the writers). A token row never changes, but it is
    deleted when the session is revoked, perhaps by another process: a remembered entry is
    trusted for `recheck_seconds` only, then the database is asked again. The process that
    revokes a token forgets it at once. Bounded: emptied when full."""

    def __init__(self, max_entries: int = 50_000, recheck_seconds: float = 10.0) -> None:
        # hash -> (family id, expiry, monotonic time it was read from the database)
        self._entries: dict[str, tuple[int, datetime, float]] = {}
        self._max = max_entries
        self._recheck = recheck_seconds

    def family(self, token: str | None, now: datetime) -> int | None:
        """The family id if the token is known here and not expired; None means "ask the
        database" (unknown here) or expired (the database would say no as well)."""
        if not token or len(token) > 64:
            return None
        entry = self._entries.get(_hash(token))
        if entry is None:
            return None
        if entry[1] <= now or time.monotonic() - entry[2] >= self._recheck:
            self._entries.pop(_hash(token), None)
            return None
        return entry[0]

    def remember(self, token: str, family_id: int, expires_at: datetime) -> None:
        if len(self._entries) >= self._max:
            self._entries.clear()
        self._entries[_hash(token)] = (family_id, expires_at, time.monotonic())

    def forget(self, token: str) -> None:
        self._entries.pop(_hash(token), None)


def revoke_expired(db: Session, *, before: datetime) -> int:
    """Delete the family sessions that expired before `before` (the retention job's cutoff)."""
    result = db.execute(delete(FamilySession).where(FamilySession.expires_at < before))
    return int(getattr(result, "rowcount", 0) or 0)
