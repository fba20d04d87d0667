"""Telling a family its turn came, in the transaction that admits it (the outbox: the message is
never sent for an admission that rolled back, never lost for one that committed): a text to the
family's phone on file when it takes texts, and a message into the web conversation it joined
from. The admission itself stays in `rush_entry`; the bot only relays the message."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.adapters.clock import Clock
from backend.db.models import Family
from backend.db.notifications import Channel
from backend.db.waiting_room import RushEntry
from backend.services import outbox

KIND = "admission"
# The channels an admission message is pushed into (an SMS conversation has the phone's text).
PUSHED_CHANNELS = frozenset({"web"})


def notify_admitted(
    db: Session, entries: Sequence[RushEntry], *, clock: Clock, now: datetime, grace: timedelta
) -> int:
    """Write the admission messages of the families just let in; how many were written."""
    if not entries:
        return 0
    families = {
        f.id: f
        for f in db.scalars(select(Family).where(Family.id.in_([e.family_id for e in entries])))
    }
    minutes = int(grace.total_seconds() // 60)
    # The turn holds `grace` without activity: past it the message would only mislead.
    params = {"grace_minutes": minutes, "expires_at": (now + grace).isoformat()}
    written = 0
    for entry in entries:
        family = families.get(entry.family_id)
        if family is None:
            continue
        if family.phone and family.phone_can_text and not outbox.is_opted_out(db, family.phone):
            written += len(
                outbox.enqueue(
                    db,
                    clock=clock,
                    family=family,
                    kind=KIND,
                    params=params,
                    channels=[Channel.SMS],
                )
            )
        if entry.notify_conversation and entry.notify_channel in PUSHED_CHANNELS:
            outbox.enqueue_to_contact(
                db,
                clock=clock,
                channel=Channel.CHAT,
                recipient=entry.notify_conversation,
                kind=KIND,
                params=params,
                family_id=family.id,
            )
            written += 1
    return written
