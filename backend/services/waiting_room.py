"""The waiting room for a family: join the line (one place per family file), ask where one
stands, and the guard every cart change passes during a rush (backend/domain/waiting_room.py
holds the rules; the admission step is services/rush_admission.py)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, bindparam, func, select
from sqlalchemy.orm import Session

from backend.adapters.clock import Clock
from backend.db.models import Group, Program
from backend.db.models import Session as ActivitySession
from backend.db.waiting_room import Rush, RushEntry
from backend.domain import waiting_room as rules
from backend.domain.errors import RegistrationError
from backend.domain.waiting_room import EntryStatus, Phase, RushState
from backend.services import rush_draw, views


def open_rush_id(db: Session, season_id: int | None) -> int | None:
    """The season's rush not closed yet (the newest season's when none is named)."""
    query = select(Rush.id).where(Rush.state != RushState.CLOSED)
    if season_id is not None:
        query = query.where(Rush.season_id == season_id)
    found = db.scalar(query.order_by(Rush.id.desc()).limit(1))
    return None if found is None else int(found)


def phase_of(rush: Rush, now: datetime) -> Phase:
    return rules.phase(rush.state, rush.opens_at, now)


def join(
    db: Session,
    family_id: int,
    *,
    season_id: int | None,
    clock: Clock,
    notify: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """Take the family's place in line, or give back the one it has (idempotent): in the
    pre-queue before the opening, at the back after it. A family whose turn is over (ordered,
    holds ran out, idle) goes to the back again. no_waiting_room when no rush is open.
    `notify` (conversation id, channel): where to tell the family of its admission besides its
    phone; the latest conversation it joined or asked from wins."""
    rush_id = open_rush_id(db, season_id)
    if rush_id is None:
        raise RegistrationError("no_waiting_room")
    # The rush row's lock orders joins with the draw and with each other: sequences are given
    # without gap, and no join slips into the pre-queue once it was drawn.
    rush = db.scalars(select(Rush).where(Rush.id == rush_id).with_for_update()).one()
    now = clock.now()
    current = phase_of(rush, now)
    if current == Phase.CLOSED:
        raise RegistrationError("no_waiting_room")
    if rules.must_draw(current, rush.drawn_at is not None):
        rush_draw.draw_pre_queue(db, rush, now=now, clock=clock)
    entry = db.scalar(
        select(RushEntry).where(RushEntry.rush_id == rush.id, RushEntry.family_id == family_id)
    )
    if entry is None:
        entry = RushEntry(
            rush_id=rush.id, family_id=family_id, status=EntryStatus.WAITING, joined_at=now
        )
        entry.seq = None if current == Phase.PRE_QUEUE else _next_seq(rush)
        db.add(entry)
    elif entry.status == EntryStatus.FINISHED:
        entry.status = EntryStatus.WAITING
        entry.seq = _next_seq(rush)
        entry.joined_at = now
        entry.admitted_at = entry.last_active_at = entry.finished_at = None
        entry.finished_because = None
    if notify is not None:
        entry.notify_conversation, entry.notify_channel = notify
    db.flush()
    return place_view(db, rush, entry, now)


def _next_seq(rush: Rush) -> int:
    rush.last_seq += 1
    return rush.last_seq


def place(
    db: Session, family_id: int, *, season_id: int | None, clock: Clock
) -> dict[str, Any]:
    """Where the family stands (read only): `status` waiting | admitted | finished |
    not_in_line, its `position` and `estimated_wait_minutes` while waiting in a drawn line;
    `needs_draw` when the opening passed and the pre-queue is still to draw."""
    now = clock.now()
    rush_id = open_rush_id(db, season_id)
    if rush_id is None:
        return {"rush": None, "status": "no_waiting_room", "admission_required": False}
    row = db.execute(
        select(Rush, RushEntry)
        .outerjoin(
            RushEntry, (RushEntry.rush_id == Rush.id) & (RushEntry.family_id == family_id)
        )
        .where(Rush.id == rush_id)
    ).one()
    rush, entry = row
    return place_view(db, rush, entry, now)


def observed_rate(db: Session, rush: Rush, now: datetime) -> float | None:
    """Families let in per minute lately (an index range on admitted_at, never the queue)."""
    since = now - rules.OBSERVED_WINDOW
    count = db.scalar(
        select(func.count())
        .select_from(RushEntry)
        .where(RushEntry.rush_id == rush.id, RushEntry.admitted_at >= since)
    )
    return rules.observed_rate(int(count or 0), now - rush.opens_at)


def rush_view(rush: Rush, now: datetime) -> dict[str, Any]:
    current = phase_of(rush, now)
    return {
        "id": rush.id,
        "season_id": rush.season_id,
        "state": rush.state.value,
        "phase": current.value,
        "opens_at": views.iso(rush.opens_at),
        "rate_per_minute": rush.rate_per_minute,
        "cap": rush.cap,
        "drawn": rush.drawn_at is not None,
    }


def place_view(db: Session, rush: Rush, entry: RushEntry | None, now: datetime) -> dict[str, Any]:
    current = phase_of(rush, now)
    view: dict[str, Any] = {
        "rush": rush_view(rush, now),
        "admission_required": rules.requires_admission(current),
        "status": "not_in_line" if entry is None else entry.status.value,
        "position": None,
        "estimated_wait_minutes": None,
        "needs_draw": False,
    }
    if entry is None or entry.status != EntryStatus.WAITING:
        return view
    if entry.seq is None:
        view["needs_draw"] = current != Phase.PRE_QUEUE
        return view
    position = rules.position_from_frontier(entry.seq, rush.admitted_through)
    view["position"] = position
    if current != Phase.PAUSED:
        view["estimated_wait_minutes"] = rules.estimated_wait_minutes(
            position, observed_rate(db, rush, now), rush.rate_per_minute
        )
    return view


def ensure_drawn(db: Session, *, season_id: int | None, clock: Clock) -> None:
    """Draw the pre-queue now if the opening passed and no worker drew it yet."""
    rush_id = open_rush_id(db, season_id)
    if rush_id is None:
        return
    rush = db.scalars(select(Rush).where(Rush.id == rush_id).with_for_update()).one()
    now = clock.now()
    if rules.must_draw(phase_of(rush, now), rush.drawn_at is not None):
        rush_draw.draw_pre_queue(db, rush, now=now, clock=clock)


# Built once: every cart change sends it (building it cost more than sending it).
_RUNNING_RUSHES = select(Rush).where(
    Rush.season_id.in_(
        select(Program.season_id)
        .join(Group, Group.program_id == Program.id)
        .join(ActivitySession, ActivitySession.group_id == Group.id)
        .where(ActivitySession.id.in_(bindparam("ids", expanding=True)))
    ),
    Rush.state != RushState.CLOSED,
    Rush.opens_at <= bindparam("now", type_=DateTime()),
)


def guard(db: Session, family_id: int, session_ids: Iterable[int], *, clock: Clock) -> None:
    """Every cart change passes here: while a rush of these sessions' season runs, only an
    admitted family goes on (and its activity keeps its turn alive); any other gets
    `waiting_room` and nothing changes."""
    ids = list(dict.fromkeys(session_ids))
    if not ids:
        return
    now = clock.now()
    rushes = db.scalars(_RUNNING_RUSHES, {"ids": ids, "now": now}).all()
    for rush in rushes:
        entry = db.scalar(
            select(RushEntry).where(
                RushEntry.rush_id == rush.id, RushEntry.family_id == family_id
            )
        )
        if entry is not None and entry.status == EntryStatus.ADMITTED:
            entry.last_active_at = now
            continue
        view = place_view(db, rush, entry, now)
        raise RegistrationError(
            "waiting_room",
            rush_id=rush.id,
            status=view["status"],
            position=view["position"],
            estimated_wait_minutes=view["estimated_wait_minutes"],
        )


def family_entries(db: Session, family_id: int) -> list[dict[str, Any]]:
    """The family's places in every waiting room, for its Loi 25 export."""
    rows = db.execute(
        select(RushEntry, Rush.season_id)
        .join(Rush, Rush.id == RushEntry.rush_id)
        .where(RushEntry.family_id == family_id)
        .order_by(RushEntry.id)
    ).all()
    return [
        {
            "rush_id": e.rush_id,
            "season_id": season_id,
            "status": e.status.value,
            "joined_at": views.iso(e.joined_at),
            "admitted_at": views.iso(e.admitted_at),
            "finished_at": views.iso(e.finished_at),
            "finished_because": None if e.finished_because is None else e.finished_because.value,
        }
        for e, season_id in rows
    ]
