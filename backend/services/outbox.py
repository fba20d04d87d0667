"""The notifications outbox, enqueue side: what is written, to whom, and who wants no texts.

`enqueue` is called inside the same database transaction as what it announces (an order
created, an offer made), so a message is never sent for something that rolled back, and never
lost for something that committed. `backend.services.dispatch` sends afterwards and honours SMS
opt-outs (the backend owns them: every sender, bot replies included, asks `is_opted_out`).
Each row records until when its content holds (`expires_at`, from `messages.content_expires_at`):
a code or a link that lapsed while a provider was down is marked expired, never delivered late.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy.orm import Session

from backend.adapters.clock import Clock
from backend.db.models import Family
from backend.db.notifications import Channel, Notification, NotificationStatus, SmsOptOut
from backend.domain.sms_pacing import priority
from backend.i18n import sms_segments
from backend.services import messages
from backend.services.phones import normalize_phone

# --------------------------------------------------------------------------- SMS opt-outs


def is_opted_out(db: Session, phone: str) -> bool:
    normalized = normalize_phone(phone) or phone
    return db.get(SmsOptOut, normalized) is not None


def opt_out(db: Session, phone: str, *, clock: Clock) -> str:
    """Record that this number wants no more texts (STOP, ARRÊT…). Returns the E.164 number."""
    normalized = normalize_phone(phone)
    if normalized is None:
        raise ValueError("phone")
    if db.get(SmsOptOut, normalized) is None:
        db.add(SmsOptOut(phone=normalized, opted_out_at=clock.now()))
        db.flush()
    return normalized


def opt_in(db: Session, phone: str) -> str:
    """Texts allowed again (START, REPRENDRE). Returns the E.164 number."""
    normalized = normalize_phone(phone)
    if normalized is None:
        raise ValueError("phone")
    row = db.get(SmsOptOut, normalized)
    if row is not None:
        db.delete(row)
        db.flush()
    return normalized


# --------------------------------------------------------------------------- enqueue


def default_channels(family: Family) -> list[Channel]:
    channels: list[Channel] = []
    if family.phone and family.phone_can_text:
        channels.append(Channel.SMS)
    if family.email:
        channels.append(Channel.EMAIL)
    return channels


# A newer message of these kinds makes a waiting older one useless: a parent who asked for a
# code again uses the newest, and the older code no longer opens the challenge after a resend.
# The dispatcher checks it when it claims (not here: enqueueing stays one INSERT per channel).
SUPERSEDED_BY_NEWER = frozenset({"otp"})


def enqueue(
    db: Session,
    *,
    clock: Clock,
    family: Family,
    kind: str,
    params: Mapping[str, object],
    channels: Sequence[Channel] | None = None,
) -> list[Notification]:
    """Render message `kind` in French for each channel and add it to the outbox."""
    if kind not in messages.KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    wanted = list(channels) if channels is not None else default_channels(family)
    rows: list[Notification] = []
    now = clock.now()
    expires_at = messages.content_expires_at(kind, params, now)
    for channel in wanted:
        recipient = family.phone if channel is Channel.SMS else family.email
        if not recipient:
            continue
        rendered = messages.render(kind, params, channel)
        row = Notification(
            family_id=family.id,
            channel=channel,
            recipient=recipient,
            subject=rendered.subject[:200],
            body=rendered.body,
            kind=kind,
            status=NotificationStatus.PENDING,
            attempts=0,
            created_at=now,
            next_attempt_at=now,
            expires_at=expires_at,
            priority=priority(kind),
            segments=sms_segments(rendered.body) if channel is Channel.SMS else 1,
        )
        db.add(row)
        rows.append(row)
    db.flush()
    return rows


def enqueue_to_contact(
    db: Session,
    *,
    clock: Clock,
    channel: Channel,
    recipient: str,
    kind: str,
    params: Mapping[str, object],
    family_id: int | None = None,
) -> Notification:
    """Message `kind` to a phone or courriel that no family file holds yet (a new parent's
    verification code), or to a family's open chat conversation (`recipient` is its id)."""
    if kind not in messages.KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    now = clock.now()
    rendered = messages.render(kind, params, channel)
    row = Notification(
        family_id=family_id,
        channel=channel,
        recipient=recipient,
        subject=rendered.subject[:200],
        body=rendered.body,
        kind=kind,
        status=NotificationStatus.PENDING,
        attempts=0,
        created_at=now,
        next_attempt_at=now,
        expires_at=messages.content_expires_at(kind, params, now),
    )
    db.add(row)
    db.flush()
    return row
