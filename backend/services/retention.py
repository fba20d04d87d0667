"""What the backend forgets by itself (Law 25: personal information is kept only as long as its
purpose needs it).

What runs on its own here (docs/OPERATIONS.md, "Retention"): one-time codes and the
identification records around them, outbox messages after `retention_outbox_days`, and the
bot's conversations (Rasa's SQL tracker store, `tracker_database_url`) whose last event is older
than `retention_conversation_days`. Health records, unfinished carts and orders wait for the
city's decision on their delays.
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, delete, inspect, select, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from backend.adapters.clock import Clock
from backend.db.access import FamilySession, IdentityChallenge
from backend.db.engine import make_engine
from backend.db.helpdesk import ContactCheck
from backend.db.notifications import Notification
from backend.services import auth
from backend.settings import Settings

CODE_MASK = "••••••"
# Challenges and sessions stay a day after they expire: enough for the help desk to see why a
# parent could not identify last night (tries, lock), not enough to become a history.
KEEP_IDENTIFICATION = timedelta(hours=24)

_CODE = re.compile(r"\b\d{6}\b")


def _spent_codes(clock: Clock, settings: Settings) -> Select[Notification]:
    cutoff = clock.now() - timedelta(minutes=settings.otp_minutes)
    return select(Notification).where(
        Notification.kind == "otp",
        Notification.created_at <= cutoff,
        Notification.body.not_like(f"%{CODE_MASK}%"),
    )


def anything_due(db: Session, *, clock: Clock, settings: Settings) -> bool:
    """Whether `run` has work, asked in a read transaction: the jobs run every few seconds and
    on SQLite a write transaction queues behind the parents' requests for nothing."""
    cutoff = clock.now() - KEEP_IDENTIFICATION
    due = [
        _spent_codes(clock, settings),
        select(Notification.id).where(Notification.created_at < _outbox_cutoff(clock, settings)),
        select(IdentityChallenge.id).where(IdentityChallenge.expires_at < cutoff),
        select(FamilySession.token_hash).where(FamilySession.expires_at < cutoff),
    ]
    return any(db.scalar(query.limit(1)) is not None for query in due)


def mask_spent_codes(db: Session, *, clock: Clock, settings: Settings) -> int:
    """Mask the code in every one-time-code message sent longer ago than a code lives.

    The code is only useful for `otp_minutes`; after that, the copy kept in the outbox is a
    password nobody needs, readable by anyone who reads the table or its backups.
    """
    rows = db.scalars(_spent_codes(clock, settings)).all()
    for row in rows:
        row.body = _CODE.sub(CODE_MASK, row.body)
        row.subject = _CODE.sub(CODE_MASK, row.subject)
    return len(rows)


def forget_old_identification(db: Session, *, clock: Clock) -> dict[str, int]:
    """Delete challenges and family sessions that expired more than a day ago."""
    cutoff = clock.now() - KEEP_IDENTIFICATION
    challenges = db.execute(delete(IdentityChallenge).where(IdentityChallenge.expires_at < cutoff))
    # A new file's contact checks hold the phone or courriel typed: gone with the codes.
    checks = db.execute(delete(ContactCheck).where(ContactCheck.expires_at < cutoff))
    return {
        "challenges_deleted": int(getattr(challenges, "rowcount", 0) or 0)
        + int(getattr(checks, "rowcount", 0) or 0),
        "sessions_deleted": auth.revoke_expired(db, before=cutoff),
    }


def _outbox_cutoff(clock: Clock, settings: Settings) -> datetime:
    return clock.now() - timedelta(days=settings.retention_outbox_days)


def forget_old_messages(db: Session, *, clock: Clock, settings: Settings) -> int:
    """Delete outbox messages written more than `retention_outbox_days` ago, whatever their
    status: a texto or courriel that old has been delivered or will never be, and what it
    announced (order, registration, refund) is kept in its own tables."""
    cutoff = _outbox_cutoff(clock, settings)
    deleted = db.execute(delete(Notification).where(Notification.created_at < cutoff))
    return int(getattr(deleted, "rowcount", 0) or 0)


NOTHING_DONE = {
    "codes_masked": 0,
    "challenges_deleted": 0,
    "sessions_deleted": 0,
    "messages_deleted": 0,
    "conversations_deleted": 0,
}


def run(db: Session, *, clock: Clock, settings: Settings) -> dict[str, Any]:
    return {
        "codes_masked": mask_spent_codes(db, clock=clock, settings=settings),
        **forget_old_identification(db, clock=clock),
        "messages_deleted": forget_old_messages(db, clock=clock, settings=settings),
    }


# --------------------------------------------------------------------------- conversations

# Rasa's SQL tracker store: one `events` row per event, `timestamp` a float Unix time. A
# conversation is the rows of one sender_id; it goes as a whole once its last event is older
# than the delay (an event Rasa writes during the delete starts a new conversation).
_OLD_CONVERSATIONS = text(
    "DELETE FROM events WHERE sender_id IN ("
    "SELECT sender_id FROM events GROUP BY sender_id HAVING MAX(timestamp) < :cutoff)"
)
# The purge scans the whole table (Rasa indexes sender_id only): once an hour is enough for a
# delay counted in days, and the jobs run every few seconds.
PURGE_EVERY = timedelta(hours=1)
_last_purge: dict[str, datetime] = {}
_purge_lock = threading.Lock()


def _purge_due(url: str, now: datetime) -> bool:
    with _purge_lock:
        last = _last_purge.get(url)
        if last is not None and last <= now < last + PURGE_EVERY:
            return False
        _last_purge[url] = now
        return True


def forget_old_conversations(*, clock: Clock, settings: Settings, force: bool = False) -> int:
    """Delete the bot's conversations whose last event is older than
    `retention_conversation_days`, in the tracker store's database; the number of events
    deleted. Nothing to do when no tracker database is configured or Rasa has not created its
    table yet."""
    url = settings.tracker_database_url
    now = clock.now()
    if not url or not (force or _purge_due(url, now)):
        return 0
    cutoff = now - timedelta(days=settings.retention_conversation_days)
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            if not inspect(conn).has_table("events"):
                return 0  # Rasa has not written its first conversation yet
            result = conn.execute(
                _OLD_CONVERSATIONS, {"cutoff": cutoff.replace(tzinfo=UTC).timestamp()}
            )
            return int(getattr(result, "rowcount", 0) or 0)
    finally:
        engine.dispose()
