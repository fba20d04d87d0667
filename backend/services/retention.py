"""What the backend forgets by itself (Law 25: personal information is kept only as long as its
purpose needs it).

Only the technical part of the schedule in docs/OPERATIONS.md runs on its own here: one-time
codes and the identification records around them. Health records, unfinished carts and orders
wait for the city's decision on their delays.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session

from backend.adapters.clock import Clock
from backend.db.models import FamilySession, IdentityChallenge, Notification
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
    return {
        "challenges_deleted": int(getattr(challenges, "rowcount", 0) or 0),
        "sessions_deleted": auth.revoke_expired(db, before=cutoff),
    }


NOTHING_DONE = {"codes_masked": 0, "challenges_deleted": 0, "sessions_deleted": 0}


def run(db: Session, *, clock: Clock, settings: Settings) -> dict[str, Any]:
    return {
        "codes_masked": mask_spent_codes(db, clock=clock, settings=settings),
        **forget_old_identification(db, clock=clock),
    }
