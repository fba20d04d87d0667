"""One admission step of the waiting room, run by every backend worker's loop (and by staff on
demand): draw the pre-queue at the opening, let go of admitted families whose turn is over,
then let the next ones in by rate and cap (the rules are backend/domain/waiting_room.py).

Several workers share one queue: each rush is stepped under its row's lock, taken with SKIP
LOCKED on PostgreSQL (a worker finding it taken leaves that rush to the other one this time);
SQLite has a single writer. Families are let in strictly in sequence order, which keeps
positions a subtraction (`admitted_through`)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.adapters.clock import Clock
from backend.db.models import Cart, Line, LineStatus, Order
from backend.db.waiting_room import Rush, RushEntry
from backend.domain import waiting_room as rules
from backend.domain.waiting_room import EntryStatus, Phase, RushState
from backend.services import admission_notices, rush_draw
from backend.settings import Settings


def step_all(db: Session, *, clock: Clock, settings: Settings) -> dict[str, int]:
    """Step every rush not closed; totals of what was done."""
    totals = {"drawn": 0, "released": 0, "admitted": 0}
    ids = db.scalars(select(Rush.id).where(Rush.state != RushState.CLOSED).order_by(Rush.id))
    for rush_id in list(ids):
        done = step(db, int(rush_id), clock=clock, settings=settings)
        for key in totals:
            totals[key] += done.get(key, 0)
    return totals


def step(db: Session, rush_id: int, *, clock: Clock, settings: Settings) -> dict[str, Any]:
    rush = db.scalars(
        select(Rush).where(Rush.id == rush_id).with_for_update(skip_locked=True)
    ).one_or_none()
    if rush is None:  # another worker is stepping it (or it does not exist)
        return {"skipped": True}
    now = clock.now()
    current = rules.phase(rush.state, rush.opens_at, now)
    done: dict[str, Any] = {"drawn": 0, "released": 0, "admitted": 0, "phase": current.value}
    if current in (Phase.PRE_QUEUE, Phase.CLOSED):
        return done
    if rules.must_draw(current, rush.drawn_at is not None):
        done["drawn"] = rush_draw.draw_pre_queue(db, rush, now=now, clock=clock)
    grace = timedelta(minutes=settings.rush_idle_grace_minutes)
    done["released"] = release_finished(db, rush, now=now, grace=grace)
    if current == Phase.PAUSED:
        rush.credited_at = now  # a pause saves up no crowd to let in on resuming
        return done
    done["admitted"] = admit(db, rush, now=now, clock=clock, grace=grace)
    return done


def registering(db: Session, rush_id: int) -> int:
    count = db.scalar(
        select(func.count())
        .select_from(RushEntry)
        .where(RushEntry.rush_id == rush_id, RushEntry.status == EntryStatus.ADMITTED)
    )
    return int(count or 0)


def admit(db: Session, rush: Rush, *, now: datetime, clock: Clock, grace: timedelta) -> int:
    """Let the next families in by rate and cap, and write each one's admission message in
    this same transaction (services/admission_notices.py)."""
    since = rush.credited_at or rush.opens_at
    decided = rules.admissions(
        # waiting families hold exactly the sequences after the last one let in
        waiting=rush.last_seq - rush.admitted_through,
        registering=registering(db, rush.id),
        cap=rush.cap,
        rate_per_minute=rush.rate_per_minute,
        credit=rush.credit,
        elapsed=now - since,
    )
    rush.credit, rush.credited_at = decided.credit, now
    if decided.count == 0:
        db.flush()
        return 0
    entries = db.scalars(
        select(RushEntry)
        .where(
            RushEntry.rush_id == rush.id,
            RushEntry.status == EntryStatus.WAITING,
            RushEntry.seq > rush.admitted_through,
        )
        .order_by(RushEntry.seq)
        .limit(decided.count)
    ).all()
    for entry in entries:
        entry.status = EntryStatus.ADMITTED
        entry.admitted_at = entry.last_active_at = now
    if entries:
        rush.admitted_through = max(int(e.seq or 0) for e in entries)
    admission_notices.notify_admitted(db, entries, clock=clock, now=now, grace=grace)
    db.flush()
    return len(entries)


def release_finished(db: Session, rush: Rush, *, now: datetime, grace: timedelta) -> int:
    """Admitted families whose turn is over stop counting toward the cap. What each did since
    it was let in is read in two statements for all of them (at most `cap` families)."""
    admitted = db.scalars(
        select(RushEntry).where(
            RushEntry.rush_id == rush.id, RushEntry.status == EntryStatus.ADMITTED
        )
    ).all()
    if not admitted:
        return 0
    families = [e.family_id for e in admitted]
    earliest = min(e.admitted_at or now for e in admitted)
    last_order = dict(
        db.execute(
            select(Order.family_id, func.max(Order.created_at))
            .where(Order.family_id.in_(families), Order.created_at >= earliest)
            .group_by(Order.family_id)
        ).all()
    )
    holds: dict[int, list[tuple[LineStatus, datetime | None, datetime]]] = defaultdict(list)
    for family_id, status, expires, created in db.execute(
        select(Cart.family_id, Line.status, Line.hold_expires_at, Line.created_at)
        .join(Cart, Cart.id == Line.cart_id)
        .where(
            Cart.family_id.in_(families),
            Line.created_at >= earliest,
            Line.status.in_((LineStatus.HELD, LineStatus.RELEASED)),
        )
    ).all():
        holds[int(family_id)].append((status, expires, created))
    released = 0
    for entry in admitted:
        since = entry.admitted_at or now
        mine = [(s, x) for s, x, c in holds.get(entry.family_id, []) if c >= since]
        ordered_at = last_order.get(entry.family_id)
        why = rules.release(
            checked_out=ordered_at is not None and ordered_at >= since,
            a_hold_ran_out=any(
                s == LineStatus.RELEASED or (x is not None and x <= now) for s, x in mine
            ),
            holds_live=any(s == LineStatus.HELD and x is not None and x > now for s, x in mine),
            last_active_at=entry.last_active_at or since,
            now=now,
            grace=grace,
        )
        if why is not None:
            entry.status = EntryStatus.FINISHED
            entry.finished_at = now
            entry.finished_because = why
            released += 1
    db.flush()
    return released
