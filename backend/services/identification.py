"""Identifying a parent before any family data is shown (docs/API.md, "Identification").

- By one-time code: client number + the phone on file -> a 6-digit code to that phone (or to
  the courriel on file when the phone cannot take texts). The answer is only the challenge id,
  whether or not the client number and phone match and wherever the code went, so nothing is
  revealed; a challenge that matched nothing simply never verifies. Starts are limited per
  typed phone, typed client number and client address per rolling hour (`rate_limited`).
  Only an HMAC of the code is stored. Codes expire after `otp_minutes`, allow
  `otp_max_attempts` tries, and can be resent `otp_max_resends` times.
- By the SMS sender's number (holding the phone is the proof), and by the city site's widget
  token (`backend.services.widget_token`).

A refused try must still be counted, so `verify` returns its refusal instead of raising it
(raising would roll the attempt counter back); the HTTP layer raises after the commit.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, literal, or_, select, text
from sqlalchemy.orm import Session

from backend.adapters.clock import Clock
from backend.db.access import ChallengeStatus, IdentityChallenge
from backend.db.models import AccountStatus, Family
from backend.db.notifications import Channel
from backend.domain.errors import RegistrationError
from backend.services import auth, outbox, phones, sms_queue
from backend.services.family import family_view
from backend.settings import Settings

# More codes than this for one family in an hour and no further code is sent (the answer looks
# the same): it caps how many guesses a stranger gets against one family.
MAX_CHALLENGES_PER_HOUR = 6


@dataclass(frozen=True)
class Verified:
    family_token: str
    family: dict[str, Any]


def _code_hash(settings: Settings, challenge_id: str, code: str) -> str:
    return _key(settings, challenge_id, code)


def _new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def _channel_for(
    db: Session, family: Family, *, now: datetime, settings: Settings
) -> Channel:
    """By texto when the phone can take one; by courriel when it cannot, or when the texto
    queue is so long tonight that the code would land after it lapsed."""
    textable = family.phone_can_text and not outbox.is_opted_out(db, family.phone)
    if not family.email:
        return Channel.SMS
    if not textable:
        return Channel.EMAIL
    capacity = settings.sending_capacity()
    if capacity is not None and sms_queue.would_arrive_too_late(
        db,
        now=now,
        kind="otp",
        expires_at=now + timedelta(minutes=settings.otp_minutes),
        capacity=capacity,
    ):
        return Channel.EMAIL
    return Channel.SMS


def _key(settings: Settings, kind: str, value: str) -> str:
    """A keyed hash: counts can be made on it, the value cannot be read back (a phone number
    has too few digits for a plain hash to hide it)."""
    message = f"{kind}:{value}".encode()
    return hmac.new(settings.link_secret.encode(), message, hashlib.sha256).hexdigest()


# First of this module's advisory lock classes (one per kind of key): apart from any other.
_LOCK_CLASS = 7100


def _lock_keys(db: Session, keys: list[str]) -> None:
    """PostgreSQL: serialize the starts sharing a key, so simultaneous requests from several
    workers cannot all pass the same count. One lock class per kind of key, always taken in
    the same order: no two starts wait on each other in a cycle. (SQLite: BEGIN IMMEDIATE
    already lets one writer at a time.)"""
    if db.get_bind().dialect.name != "postgresql":
        return
    # The key's first 32 bits as the lock's number (hex -> bit(32) -> int).
    locks = ", ".join(
        f"pg_advisory_xact_lock({_LOCK_CLASS + n}, ('x' || substr(:k{n}, 1, 8))::bit(32)::int)"
        for n in range(len(keys))
    )
    db.execute(text(f"SELECT {locks}"), {f"k{i}": key for i, key in enumerate(keys)})


def _recent_counts(
    db: Session,
    *,
    since: datetime,
    phone_key: str,
    client_key: str,
    address_key: str | None,
    family_id: int | None,
) -> tuple[int, int, int, int]:
    """Challenges of the last hour for this phone, client number, address and family, in one
    statement."""
    c = IdentityChallenge

    def hits(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    row = db.execute(
        select(
            hits(c.phone_key == phone_key),
            hits(c.client_key == client_key),
            hits(c.address_key == address_key) if address_key else literal(0),
            hits(c.family_id == family_id) if family_id is not None else literal(0),
        ).where(
            c.created_at > since,
            or_(
                c.phone_key == phone_key,
                c.client_key == client_key,
                *([c.address_key == address_key] if address_key else []),
                *([c.family_id == family_id] if family_id is not None else []),
            ),
        )
    ).one()
    return int(row[0]), int(row[1]), int(row[2]), int(row[3])


def start(
    db: Session,
    *,
    client_number: str,
    phone: str,
    clock: Clock,
    settings: Settings,
    client_address: str | None = None,
) -> dict[str, Any]:
    """A new challenge, answered `{"challenge_id"}` whatever happened: matched or not, code by
    texto or by courriel, or no code at all (the family's hourly cap)."""
    now = clock.now()
    typed_client = client_number.strip()
    normalized = phones.normalize_phone(phone) or phone.strip()
    phone_key = _key(settings, "phone", normalized)
    client_key = _key(settings, "client", typed_client)
    address_key = _key(settings, "address", client_address) if client_address else None
    _lock_keys(db, [phone_key, client_key, *([address_key] if address_key else [])])
    family = db.scalars(select(Family).where(Family.client_number == typed_client)).one_or_none()
    if family is not None and family.phone != normalized:
        family = None
    by_phone, by_client, by_address, by_family = _recent_counts(
        db,
        since=now - timedelta(hours=1),
        phone_key=phone_key,
        client_key=client_key,
        address_key=address_key,
        family_id=family.id if family is not None else None,
    )
    if (
        by_phone >= settings.identify_per_phone_per_hour
        or by_client >= settings.identify_per_client_number_per_hour
        or (address_key is not None and by_address >= settings.identify_per_address_per_hour)
    ):
        # Counted on what was typed, match or not: the refusal tells nothing about the file.
        raise RegistrationError("rate_limited")
    if by_family >= MAX_CHALLENGES_PER_HOUR:
        family = None
    channel = (
        _channel_for(db, family, now=now, settings=settings)
        if family is not None
        else Channel.SMS
    )
    challenge_id = secrets.token_urlsafe(16)
    code = _new_code()
    challenge = IdentityChallenge(
        id=challenge_id,
        family_id=family.id if family is not None else None,
        code_hash=_code_hash(settings, challenge_id, code),
        channel=channel,
        status=ChallengeStatus.OPEN,
        attempts=0,
        resends=0,
        created_at=now,
        expires_at=now + timedelta(minutes=settings.otp_minutes),
        phone_key=phone_key,
        client_key=client_key,
        address_key=address_key,
    )
    db.add(challenge)
    if family is not None:
        outbox.enqueue(
            db, clock=clock, family=family, kind="otp", params={"code": code}, channels=[channel]
        )
    db.flush()
    return {"challenge_id": challenge.id}


def _open_challenge(db: Session, challenge_id: str, now: datetime) -> IdentityChallenge:
    challenge = db.get(IdentityChallenge, challenge_id, with_for_update=True)
    if challenge is None:
        raise RegistrationError("not_found")
    if challenge.status is ChallengeStatus.LOCKED:
        raise RegistrationError("challenge_locked")
    if challenge.status is not ChallengeStatus.OPEN:
        raise RegistrationError("code_expired")
    if challenge.expires_at <= now:
        challenge.status = ChallengeStatus.EXPIRED
        raise RegistrationError("code_expired")
    return challenge


def verify(
    db: Session, *, challenge_id: str, code: str, clock: Clock, settings: Settings
) -> Verified | RegistrationError:
    """The family token and file, or the refusal to raise once this transaction is committed."""
    now = clock.now()
    try:
        challenge = _open_challenge(db, challenge_id, now)
    except RegistrationError as refusal:
        return refusal
    expected = challenge.code_hash
    given = _code_hash(settings, challenge.id, code.strip())
    if challenge.family_id is None or not hmac.compare_digest(expected, given):
        challenge.attempts += 1
        left = settings.otp_max_attempts - challenge.attempts
        if left <= 0:
            challenge.status = ChallengeStatus.LOCKED
            return RegistrationError("challenge_locked")
        return RegistrationError("code_invalid", attempts_left=left)
    challenge.status = ChallengeStatus.VERIFIED
    return _session_for(db, challenge.family_id, via="code", clock=clock, settings=settings)


def resend(db: Session, *, challenge_id: str, clock: Clock, settings: Settings) -> dict[str, Any]:
    """A new code for the same challenge; a challenge that matched nothing counts its resends
    and refuses the fourth exactly like a real one, and answers the same."""
    now = clock.now()
    challenge = _open_challenge(db, challenge_id, now)
    if challenge.resends >= settings.otp_max_resends:
        raise RegistrationError("resend_limit")
    code = _new_code()
    challenge.resends += 1
    challenge.code_hash = _code_hash(settings, challenge.id, code)
    challenge.expires_at = now + timedelta(minutes=settings.otp_minutes)
    family = db.get(Family, challenge.family_id) if challenge.family_id is not None else None
    if family is not None:
        challenge.channel = _channel_for(db, family, now=now, settings=settings)
        outbox.enqueue(
            db,
            clock=clock,
            family=family,
            kind="otp",
            params={"code": code},
            channels=[challenge.channel],
        )
    db.flush()
    return {"challenge_id": challenge.id}


def _session_for(
    db: Session, family_id: int, *, via: str, clock: Clock, settings: Settings
) -> Verified:
    token = auth.issue_family_token(
        db, family_id, via=via, clock=clock, minutes=settings.family_token_minutes
    )
    return Verified(family_token=token, family=family_view(db, family_id))


_REACHABLE = (AccountStatus.APPROVED, AccountStatus.PENDING)


def by_phone(db: Session, *, phone: str, clock: Clock, settings: Settings) -> dict[str, Any]:
    """SMS channel: the sender's number names one family file, several, or none."""
    normalized = phones.normalize_phone(phone)
    if normalized is None:
        return {"match": "none"}
    ids = list(
        db.scalars(
            select(Family.id).where(Family.phone == normalized, Family.status.in_(_REACHABLE))
        )
    )
    if not ids:
        return {"match": "none"}
    if len(ids) > 1:
        return {"match": "several"}
    verified = _session_for(db, ids[0], via="phone", clock=clock, settings=settings)
    return {"match": "one", "family_token": verified.family_token, "family": verified.family}


def by_client_number(
    db: Session, *, client_number: str, via: str, clock: Clock, settings: Settings
) -> Verified | None:
    """The city site vouched for this client number (widget token already verified)."""
    family = db.scalars(select(Family).where(Family.client_number == client_number)).one_or_none()
    if family is None or family.status not in _REACHABLE:
        return None
    return _session_for(db, family.id, via=via, clock=clock, settings=settings)
