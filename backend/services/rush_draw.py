"""The draw of the pre-queue at the opening instant: once, with the operating system's secure
random source, the resulting order kept on the rush row and its digest in the audit log."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend.adapters.clock import Clock
from backend.db.waiting_room import Rush, RushEntry
from backend.domain import waiting_room as rules
from backend.domain.waiting_room import EntryStatus
from backend.services import audit
from backend.services.audit import Actor

# The backend itself draws (no staff account acts at the opening instant).
DRAW_ACTOR = Actor(staff_id=None, username="salle-d-attente", role="coordinator", via="internal")


def draw_pre_queue(db: Session, rush: Rush, *, now: datetime, clock: Clock) -> int:
    """Give the pre-queue its places 1..n in a random order. The caller holds the rush row's
    lock (or SQLite's single writer) and checked `rules.must_draw`. Returns n.

    `secrets.SystemRandom` has no seed to replay: what is recorded for audit is the order
    itself (family ids, first let in first) and its SHA-256 in the audit log."""
    pre_queue = db.execute(
        select(RushEntry.id, RushEntry.family_id)
        .where(
            RushEntry.rush_id == rush.id,
            RushEntry.status == EntryStatus.WAITING,
            RushEntry.seq.is_(None),
        )
        .order_by(RushEntry.id)
    ).all()
    order = rules.draw([(int(e), int(f)) for e, f in pre_queue], secrets.SystemRandom())
    first = rush.last_seq + 1
    if order:
        db.execute(
            update(RushEntry),
            [{"id": entry_id, "seq": first + i} for i, (entry_id, _) in enumerate(order)],
        )
    rush.last_seq += len(order)
    rush.drawn_at = now
    rush.draw_order = json.dumps([family for _, family in order])
    audit.record(
        db,
        DRAW_ACTOR,
        "rush_draw",
        target_type="rush",
        target_id=rush.id,
        clock=clock,
        detail={
            "families": len(order),
            "order_sha256": hashlib.sha256(rush.draw_order.encode()).hexdigest(),
            "source": "secrets.SystemRandom",
        },
    )
    db.flush()
    return len(order)
