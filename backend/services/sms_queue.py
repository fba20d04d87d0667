"""The outbox's SMS queue as the sending numbers see it: the shared pace row, and how long a new
text would wait (the rules are `backend.domain.sms_pacing`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from backend.db.notifications import Channel, Notification, NotificationStatus, SmsPace
from backend.domain import sms_pacing
from backend.domain.sms_pacing import SendingCapacity

PACE_ID = "outbox"


def pace_for_update(db: Session, now: datetime) -> SmsPace:
    """The pace row, locked for this transaction (created at `now` the first time; two workers
    creating it at once both end up with the one row)."""
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    db.execute(
        insert(SmsPace).values(id=PACE_ID, next_free_at=now).on_conflict_do_nothing()
    )
    return db.scalars(select(SmsPace).where(SmsPace.id == PACE_ID).with_for_update()).one()


def expected_arrival(
    db: Session, *, now: datetime, priority: int, capacity: SendingCapacity
) -> datetime:
    """When a text of `priority` enqueued now would reach the phone: after every waiting text
    of the same or a higher priority (a lower number), at the outbox's rate."""
    pace = db.get(SmsPace, PACE_ID)
    ahead = db.scalar(
        select(func.coalesce(func.sum(Notification.segments), 0)).where(
            Notification.channel == Channel.SMS,
            Notification.status == NotificationStatus.PENDING,
            Notification.priority <= priority,
        )
    )
    next_free = pace.next_free_at if pace is not None else now
    return sms_pacing.expected_arrival(next_free, now, int(ahead or 0), capacity)


def would_arrive_too_late(
    db: Session,
    *,
    now: datetime,
    kind: str,
    expires_at: datetime | None,
    capacity: SendingCapacity,
) -> bool:
    if expires_at is None:
        return False
    arrival = expected_arrival(db, now=now, priority=sms_pacing.priority(kind), capacity=capacity)
    return sms_pacing.arrives_too_late(arrival, expires_at, capacity)
