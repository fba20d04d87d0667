"""Sending the outbox: claiming due messages, handing them to a provider, scheduling retries.

A message is claimed before it is sent: its row goes to `sending` with a lease (its
`next_attempt_at` moved `lease` ahead) in a short transaction, so several dispatchers, in one
process or many, never send the same row twice. PostgreSQL claims with `FOR UPDATE SKIP LOCKED`
(a dispatcher passes over the rows another is claiming instead of waiting for them); SQLite's
write lock serialises the claims. A dispatcher that dies mid-send leaves its rows to be claimed
again once the lease has lapsed.

A failed send is tried again later, on the backend's clock: exponential backoff with jitter,
capped, and never later than halfway to the moment the content lapses, so a code still has its
chance once the provider is back. A message whose content lapsed (a one-time code, a payment
link, an offer past its deadline) is marked `expired` instead of being delivered late, and so
is a code a newer one replaced (`outbox.SUPERSEDED_BY_NEWER`). As soon as one send on a channel
succeeds after failures, that channel's waiting retries are due again at once: after an outage
the backlog leaves on the next pass, not at each message's own pace. Within a pass, a channel
that failed is not tried again: its other messages wait for the next pass.

Texts are claimed in priority order and, with a `SendingCapacity`, paced to what the sending
numbers carry (`backend.domain.sms_pacing`, docs/DEPLOYMENT.md "Sizing the sending numbers").
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from backend.adapters.clock import Clock
from backend.adapters.ports import ChatSender, DeliveryError, EmailSender, SmsSender
from backend.db.engine import transaction
from backend.db.notifications import Channel, Notification, NotificationStatus
from backend.domain import sms_pacing
from backend.domain.sms_pacing import SendingCapacity
from backend.services import sms_queue
from backend.services.outbox import SUPERSEDED_BY_NEWER, is_opted_out

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """When to try a message again. With these values an attempt follows a failure after
    15-30 s, then 30-60 s, 1-2 min… up to 5-10 min between attempts, for 12 to 24 hours
    (18 on average) before the message is given up (`failed`)."""

    base_seconds: float = 30.0
    cap_seconds: float = 600.0
    max_attempts: int = 150
    min_seconds: float = 1.0  # the shortest wait, even for content about to lapse
    lease_seconds: float = 600.0  # how long a claim holds before another dispatcher may retake it

    def delay(
        self, attempts: int, now: datetime, expires_at: datetime | None, rng: random.Random
    ) -> timedelta:
        """The wait after the `attempts`-th failed attempt ("equal jitter": half fixed, half
        random, so a dead provider is not hammered and retries do not move in lockstep)."""
        ceiling = min(self.cap_seconds, self.base_seconds * 2 ** max(0, attempts - 1))
        seconds = rng.uniform(ceiling / 2, ceiling)
        if expires_at is not None:
            seconds = min(seconds, (expires_at - now).total_seconds() / 2)
        return timedelta(seconds=max(self.min_seconds, seconds))


DEFAULT_POLICY = RetryPolicy()


@dataclass(frozen=True)
class _Job:
    id: int
    kind: str
    channel: Channel
    recipient: str
    subject: str
    body: str
    attempts: int
    expires_at: datetime | None


@dataclass(frozen=True)
class _Outcome:
    provider_id: str | None = None
    error: str | None = None
    permanent: bool = False


async def _to_thread(fn: Callable[[], T]) -> T:
    return await asyncio.to_thread(fn)


def _claim(
    session_factory: sessionmaker[Session],
    clock: Clock,
    limit: int,
    policy: RetryPolicy,
    capacity: SendingCapacity | None = None,
    chats: bool = False,
) -> list[_Job]:
    """Up to `limit` due rows, locked and leased to this dispatcher; lapsed ones expired, SMS
    to opted-out numbers suppressed. Texts first, in priority order, and with a `capacity` only
    as many as the sending numbers carry (backend/domain/sms_pacing.py); then chat messages
    (when this dispatcher can push them) and courriels in the order they were written."""
    now = clock.now()
    lease_until = now + timedelta(seconds=policy.lease_seconds)
    with transaction(session_factory) as db:
        texts = _claim_texts(db, now, limit, capacity)
        pushed = _claim_in_order(db, Channel.CHAT, now, limit - len(texts)) if chats else []
        courriels = _claim_in_order(db, Channel.EMAIL, now, limit - len(texts) - len(pushed))
        return [_lease(row, lease_until) for row in [*texts, *pushed, *courriels]]


def _claim_texts(
    db: Session, now: datetime, limit: int, capacity: SendingCapacity | None
) -> list[Notification]:
    if (
        capacity is not None
        and db.scalar(select(Notification.id).where(*_due_filter(Channel.SMS, now)).limit(1))
        is None
    ):
        return []  # no text due: the pass neither writes nor locks the pace row
    # The pace row serialises the texts' claims across dispatchers, so they share one rate.
    pace = sms_queue.pace_for_update(db, now) if capacity is not None else None
    if (
        pace is not None
        and capacity is not None
        and not sms_pacing.may_hand_over(pace.next_free_at, now, capacity)
    ):
        return []
    rows = db.scalars(
        _due(Channel.SMS, now).order_by(Notification.priority, Notification.id).limit(limit)
    ).all()
    newest = _newest(db, rows)
    taken: list[Notification] = []
    for row in rows:
        if pace is not None and capacity is not None:
            if not sms_pacing.may_hand_over(pace.next_free_at, now, capacity):
                break
            if not _still_worth_sending(db, row, now, newest):
                continue
            if sms_pacing.arrives_too_late(max(pace.next_free_at, now), row.expires_at, capacity):
                row.status = NotificationStatus.EXPIRED
                row.next_attempt_at = None
                row.last_error = "late"
                continue
            pace.next_free_at = sms_pacing.booked_after(
                pace.next_free_at, now, row.segments, capacity
            )
        elif not _still_worth_sending(db, row, now, newest):
            continue
        taken.append(row)
    return taken


def _claim_in_order(
    db: Session, channel: Channel, now: datetime, limit: int
) -> list[Notification]:
    if limit <= 0:
        return []
    rows = db.scalars(_due(channel, now).order_by(Notification.id).limit(limit)).all()
    newest = _newest(db, rows)
    return [row for row in rows if _still_worth_sending(db, row, now, newest)]


def _due_filter(channel: Channel, now: datetime) -> tuple[Any, ...]:
    return (
        Notification.channel == channel,
        Notification.status.in_([NotificationStatus.PENDING, NotificationStatus.SENDING]),
        or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now),
    )


def _due(channel: Channel, now: datetime) -> Select[Notification]:
    return select(Notification).where(*_due_filter(channel, now)).with_for_update(skip_locked=True)


def _still_worth_sending(
    db: Session,
    row: Notification,
    now: datetime,
    newest: dict[tuple[int | None, str, Channel], int],
) -> bool:
    """False (and the row closed) for a lapsed content, a code a newer one replaced, or a text
    to a number that opted out."""
    if row.expires_at is not None and row.expires_at <= now:
        row.status = NotificationStatus.EXPIRED
        row.next_attempt_at = None
        return False
    if newest.get((row.family_id, row.kind, row.channel), row.id) > row.id:
        row.status = NotificationStatus.EXPIRED
        row.next_attempt_at = None
        row.last_error = "superseded"
        return False
    if row.channel is Channel.SMS and is_opted_out(db, row.recipient):
        row.status = NotificationStatus.SUPPRESSED
        row.next_attempt_at = None
        return False
    return True


def _lease(row: Notification, until: datetime) -> _Job:
    row.status = NotificationStatus.SENDING
    row.next_attempt_at = until
    return _Job(
        row.id,
        row.kind,
        row.channel,
        row.recipient,
        row.subject,
        row.body,
        row.attempts,
        row.expires_at,
    )


def _newest(
    db: Session, rows: Sequence[Notification]
) -> dict[tuple[int | None, str, Channel], int]:
    """The newest message id per family, kind and channel, for the kinds a newer one replaces."""
    families = {r.family_id for r in rows if r.kind in SUPERSEDED_BY_NEWER and r.family_id}
    if not families:
        return {}
    found = db.execute(
        select(
            Notification.family_id,
            Notification.kind,
            Notification.channel,
            func.max(Notification.id),
        )
        .where(
            Notification.family_id.in_(families),
            Notification.kind.in_(SUPERSEDED_BY_NEWER),
        )
        .group_by(Notification.family_id, Notification.kind, Notification.channel)
    ).all()
    return {(family, kind, channel): newest for family, kind, channel, newest in found}


def _record(
    session_factory: sessionmaker[Session],
    clock: Clock,
    policy: RetryPolicy,
    rng: random.Random,
    job: _Job,
    outcome: _Outcome,
) -> None:
    now = clock.now()
    with transaction(session_factory) as db:
        row = db.get(Notification, job.id)
        if row is None:  # forgotten (retention) while it was being sent
            return
        row.attempts += 1
        if outcome.provider_id is not None:
            row.status = NotificationStatus.SENT
            row.provider_id = outcome.provider_id[:64]
            row.sent_at = now
            row.next_attempt_at = None
            return
        row.last_error = (outcome.error or "error")[:40]
        if outcome.permanent or row.attempts >= policy.max_attempts:
            row.status = NotificationStatus.FAILED
            row.next_attempt_at = None
            return
        row.status = NotificationStatus.PENDING
        row.next_attempt_at = now + policy.delay(row.attempts, now, row.expires_at, rng)


def _catch_up(session_factory: sessionmaker[Session], clock: Clock, channel: Channel) -> None:
    """The provider answers again after failures: what waits on this channel is due now.

    Best effort, in its own transaction after the sent message was recorded: two dispatchers
    doing this at once may deadlock on PostgreSQL, and then the retries simply keep their own
    schedule."""
    now = clock.now()
    try:
        with transaction(session_factory) as db:
            db.execute(
                update(Notification)
                .where(
                    Notification.channel == channel,
                    Notification.status == NotificationStatus.PENDING,
                    Notification.attempts > 0,
                    Notification.next_attempt_at > now,
                )
                .values(next_attempt_at=now)
            )
    except DBAPIError:
        log.warning("outbox: %s retries keep their schedule (catch-up failed)", channel.value)


def _release(session_factory: sessionmaker[Session], clock: Clock, ids: list[int]) -> None:
    """Claimed rows not tried in this pass (their channel just failed): due on the next one."""
    if not ids:
        return
    with transaction(session_factory) as db:
        db.execute(
            update(Notification)
            .where(Notification.id.in_(ids), Notification.status == NotificationStatus.SENDING)
            .values(status=NotificationStatus.PENDING, next_attempt_at=clock.now())
        )


async def _send(
    job: _Job, sms: SmsSender, email: EmailSender, chat: ChatSender | None
) -> _Outcome:
    try:
        if job.channel is Channel.SMS:
            provider_id = await sms.send(to=job.recipient, body=job.body)
        elif job.channel is Channel.CHAT and chat is not None:
            provider_id = await chat.send(conversation=job.recipient, text=job.body)
        else:
            provider_id = await email.send(to=job.recipient, subject=job.subject, body=job.body)
    except DeliveryError as error:
        return _Outcome(error=error.kind, permanent=error.permanent)
    except Exception as error:  # noqa: BLE001 - any other provider failure is retried later
        return _Outcome(error=type(error).__name__)
    return _Outcome(provider_id=provider_id)


async def dispatch_pending(
    session_factory: sessionmaker[Session],
    *,
    clock: Clock,
    sms: SmsSender,
    email: EmailSender,
    limit: int = 50,
    run_sync: Callable[[Callable[[], Any]], Awaitable[Any]] | None = None,
    policy: RetryPolicy = DEFAULT_POLICY,
    rng: random.Random | None = None,
    capacity: SendingCapacity | None = None,
    chat: ChatSender | None = None,
) -> int:
    """Send what is due in the outbox; returns how many messages were sent. With a `capacity`,
    texts are paced to what the sending numbers carry, most urgent first. Chat messages are
    claimed only by a dispatcher given a `chat` sender.

    Database work runs through `run_sync` (the app's bounded thread pool; a plain thread by
    default) so the event loop never blocks. Any number of dispatchers may run at once.
    """
    run = run_sync or _to_thread
    chance = rng or random.Random()
    jobs: list[_Job] = await run(
        lambda: _claim(session_factory, clock, limit, policy, capacity, chat is not None)
    )
    sent = 0
    failed_channels: set[Channel] = set()
    caught_up: set[Channel] = set()
    skipped: list[int] = []
    for job in jobs:
        if job.channel in failed_channels:
            skipped.append(job.id)
            continue
        outcome = await _send(job, sms, email, chat)
        if outcome.provider_id is None:
            # The kind of error only: the body holds codes and links, the recipient is personal.
            log.warning(
                "outbox: notification %s (%s by %s) not sent, attempt %s: %s",
                job.id,
                job.kind,
                job.channel.value,
                job.attempts + 1,
                outcome.error,
            )
            if not outcome.permanent:
                failed_channels.add(job.channel)
        await run(partial(_record, session_factory, clock, policy, chance, job, outcome))
        if outcome.provider_id is not None:
            sent += 1
            if job.attempts > 0 and job.channel not in caught_up:
                caught_up.add(job.channel)
                await run(partial(_catch_up, session_factory, clock, job.channel))
    await run(partial(_release, session_factory, clock, skipped))
    return sent
