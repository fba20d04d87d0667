"""Identifying a parent before any family data is shown (docs/API.md, "Identification").

- By one-time code: client number + the phone on file -> a 6-digit code to that phone (or to
  the courriel on file when the phone cannot take texts). The answer has the same shape whether
  or not the client number and phone match, so nothing is revealed; a challenge that matched
  nothing simply never verifies. Only an HMAC of the code is stored. Codes expire after
  `otp_minutes`, allow `otp_max_attempts` tries, and can be resent `otp_max_resends` times.
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

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.adapters.clock import Clock
from backend.db.models import (
    AccountStatus,
    ChallengeStatus,
    Channel,
    Family,
    IdentityChallenge,
)
from backend.domain.errors import RegistrationError
from backend.services import auth, outbox, phones
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
    message = f"{challenge_id}:{code}".encode()
    return hmac.new(settings.link_secret.encode(), message, hashlib.sha256).hexdigest()


def _new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def _channel_for(db: Session, family: Family) -> Channel:
    if family.phone_can_text and not outbox.is_opted_out(db, family.phone):
        return Channel.SMS
    return Channel.EMAIL if family.email else Channel.SMS


def _destination(family: Family | None, channel: Channel, typed_phone: str) -> str:
    if family is not None and channel is Channel.EMAIL and family.email:
        return phones.mask_email(family.email)
    return phones.mask_phone(family.phone if family is not None else typed_phone)


def _answer(challenge: IdentityChallenge, destination: str) -> dict[str, Any]:
    return {
        "challenge_id": challenge.id,
        "channel": challenge.channel.value,
        "destination": destination,
    }


def start(
    db: Session, *, client_number: str, phone: str, clock: Clock, settings: Settings
) -> dict[str, Any]:
    now = clock.now()
    normalized = phones.normalize_phone(phone) or ""
    family = db.scalars(
        select(Family).where(Family.client_number == client_number.strip())
    ).one_or_none()
    if family is not None and (not normalized or family.phone != normalized):
        family = None
    if family is not None:
        recent = db.scalar(
            select(func.count())
            .select_from(IdentityChallenge)
            .where(
                IdentityChallenge.family_id == family.id,
                IdentityChallenge.created_at > now - timedelta(hours=1),
            )
        )
        if (recent or 0) >= MAX_CHALLENGES_PER_HOUR:
            family = None
    channel = _channel_for(db, family) if family is not None else Channel.SMS
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
    )
    db.add(challenge)
    if family is not None:
        outbox.enqueue(
            db, clock=clock, family=family, kind="otp", params={"code": code}, channels=[channel]
        )
    db.flush()
    return _answer(challenge, _destination(family, channel, normalized or phone))


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
        outbox.enqueue(
            db,
            clock=clock,
            family=family,
            kind="otp",
            params={"code": code},
            channels=[challenge.channel],
        )
        destination = _destination(family, challenge.channel, family.phone)
    else:
        destination = "***-***-****"
    db.flush()
    return _answer(challenge, destination)


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
