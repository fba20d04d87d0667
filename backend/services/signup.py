"""A new family file opened by chat (docs/API.md, "New family file").

1. `start`: a 6-digit code to the phone (by texto) or the courriel the parent gives; only the
   code's HMAC is kept, and starts are limited per contact and per client address per hour.
2. `verify`: the code proves the parent holds that contact. If a file already has it, the
   parent is identified with that file (holding the phone or courriel on file is the proof the
   one-time code gives anyway): that is also how a lost client number is found. Otherwise the
   check may open one new file for `CHECK_USABLE_MINUTES`.
3. `create_family`: the file, its payer and children, `pending` until staff approve it.

A refused code must still be counted, so `verify` returns its refusal instead of raising it.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from backend.adapters.clock import Clock
from backend.db.access import ChallengeStatus
from backend.db.helpdesk import ContactCheck
from backend.db.models import AccountStatus, Family, Person
from backend.db.notifications import Channel
from backend.domain.errors import RegistrationError
from backend.services import auth, outbox, phones
from backend.services.family import family_view
from backend.services.identification import keyed_hash as _key
from backend.settings import Settings

CHECK_USABLE_MINUTES = 60


@dataclass(frozen=True)
class Child:
    first_name: str
    last_name: str
    birth_date: date


def _contact(phone: str | None, email: str | None) -> tuple[Channel, str]:
    if phone:
        normalized = phones.normalize_phone(phone)
        if normalized is None:
            raise RegistrationError("invalid_request", fields={"phone": "bad_phone"})
        return Channel.SMS, normalized
    if email and "@" in email.strip():
        return Channel.EMAIL, email.strip().lower()
    raise RegistrationError("invalid_request", fields={"phone": "required", "email": "required"})


def start(
    db: Session,
    *,
    phone: str | None,
    email: str | None,
    clock: Clock,
    settings: Settings,
    client_address: str | None = None,
) -> dict[str, Any]:
    """`{"challenge_id", "channel"}`: a code went to that contact (the parent typed it)."""
    channel, contact = _contact(phone, email)
    now = clock.now()
    contact_key = _key(settings, "contact", contact)
    recent = db.scalar(
        select(func.count())
        .select_from(ContactCheck)
        .where(
            ContactCheck.contact_key == contact_key,
            ContactCheck.created_at > now - timedelta(hours=1),
        )
    )
    if int(recent or 0) >= settings.identify_per_phone_per_hour:
        raise RegistrationError("rate_limited")
    check_id = secrets.token_urlsafe(16)
    code = f"{secrets.randbelow(1_000_000):06d}"
    db.add(
        ContactCheck(
            id=check_id,
            channel=channel,
            contact=contact,
            contact_key=contact_key,
            code_hash=_key(settings, check_id, code),
            status=ChallengeStatus.OPEN,
            attempts=0,
            created_at=now,
            expires_at=now + timedelta(minutes=settings.otp_minutes),
        )
    )
    outbox.enqueue_to_contact(
        db, clock=clock, channel=channel, recipient=contact, kind="otp", params={"code": code}
    )
    db.flush()
    return {"challenge_id": check_id, "channel": channel.value}


def _families_with(db: Session, channel: Channel, contact: str) -> list[Family]:
    column = Family.phone if channel is Channel.SMS else func.lower(Family.email)
    return list(
        db.scalars(
            select(Family).where(
                column == contact,
                Family.status.in_((AccountStatus.APPROVED, AccountStatus.PENDING)),
            )
        )
    )


def verify(
    db: Session, *, challenge_id: str, code: str, clock: Clock, settings: Settings
) -> dict[str, Any] | RegistrationError:
    """`{"existing": "none" | "one" | "several"}`; with "one", the family token and file. The
    refusal (code_invalid, code_expired, challenge_locked, not_found) is returned."""
    now = clock.now()
    check = db.get(ContactCheck, challenge_id, with_for_update=True)
    if check is None:
        return RegistrationError("not_found")
    if check.status is ChallengeStatus.LOCKED:
        return RegistrationError("challenge_locked")
    if check.status is not ChallengeStatus.OPEN or check.expires_at <= now:
        if check.status is ChallengeStatus.OPEN:
            check.status = ChallengeStatus.EXPIRED
        return RegistrationError("code_expired")
    if not hmac.compare_digest(check.code_hash, _key(settings, check.id, code.strip())):
        check.attempts += 1
        left = settings.otp_max_attempts - check.attempts
        if left <= 0:
            check.status = ChallengeStatus.LOCKED
            return RegistrationError("challenge_locked")
        return RegistrationError("code_invalid", attempts_left=left)
    check.status = ChallengeStatus.VERIFIED
    families = _families_with(db, check.channel, check.contact)
    if len(families) > 1:
        return {"existing": "several", "channel": check.channel.value}
    if families:
        token = auth.issue_family_token(
            db, families[0].id, via="code", clock=clock, minutes=settings.family_token_minutes
        )
        return {
            "existing": "one",
            "channel": check.channel.value,
            "family_token": token,
            "family": family_view(db, families[0].id),
        }
    check.usable_until = now + timedelta(minutes=CHECK_USABLE_MINUTES)
    return {"existing": "none", "channel": check.channel.value}


def _new_client_number(db: Session) -> str:
    """Six digits, like the city's cards, never one already given."""
    while True:
        number = str(200_000 + secrets.randbelow(800_000))
        if db.scalar(select(Family.id).where(Family.client_number == number)) is None:
            return number


def create_family(
    db: Session,
    *,
    challenge_id: str,
    first_name: str,
    last_name: str,
    address: str,
    phone: str | None,
    email: str | None,
    children: list[Child],
    clock: Clock,
    settings: Settings,
) -> dict[str, Any]:
    """The new file, pending approval, and a family token for it. Raises contact_not_verified
    (no verified, unused, recent check), family_exists (the phone or courriel is on a file),
    invalid_request."""
    now = clock.now()
    check = db.get(ContactCheck, challenge_id, with_for_update=True)
    if (
        check is None
        or check.status is not ChallengeStatus.VERIFIED
        or check.family_id is not None
        or check.usable_until is None
        or check.usable_until <= now
    ):
        raise RegistrationError("contact_not_verified")
    if check.channel is Channel.SMS:
        phone_e164: str | None = check.contact
        mail = email.strip().lower() if email else None
    else:
        phone_e164 = phones.normalize_phone(phone or "")
        mail = check.contact
    if phone_e164 is None:
        raise RegistrationError("invalid_request", fields={"phone": "bad_phone"})
    if not children:
        raise RegistrationError("invalid_request", fields={"children": "required"})
    taken = db.scalar(
        select(Family.id).where(
            or_(Family.phone == phone_e164, *([func.lower(Family.email) == mail] if mail else []))
        )
    )
    if taken is not None:
        raise RegistrationError("family_exists")
    family = Family(
        client_number=_new_client_number(db),
        phone=phone_e164,
        phone_can_text=True,
        email=mail,
        address=address.strip(),
        # Residency is decided by staff when they approve the file (proof of address).
        resident=False,
        status=AccountStatus.PENDING,
        created_at=now,
    )
    family.members.append(
        Person(
            first_name=first_name.strip(),
            last_name=last_name.strip(),
            # The parent's own birth date is asked nowhere: no rule reads an adult's age.
            birth_date=date(1900, 1, 1),
            is_adult=True,
            is_payer=True,
        )
    )
    for child in children:
        family.members.append(
            Person(
                first_name=child.first_name.strip(),
                last_name=(child.last_name or last_name).strip(),
                birth_date=child.birth_date,
                is_adult=False,
            )
        )
    db.add(family)
    db.flush()
    check.family_id = family.id
    token = auth.issue_family_token(
        db, family.id, via="code", clock=clock, minutes=settings.family_token_minutes
    )
    return {"family_token": token, "family": family_view(db, family.id)}
