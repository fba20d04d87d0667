"""Registration night seen by the staff (docs/STAFF.md "Live view"): how full each group-week
is, its waitlist, the waiting room, the orders pending and paid, and per-minute series for the
plots. Read-only, a fixed number of statements whatever the size of the catalog.

Places taken are the pools' counters less the holds and offers that ran out but are not
released yet: the same figure the catalog subtracts from the capacity (`capacity.counts`,
`waitlist.expired_places`), so the staff never see a place as taken that the next parent
would get.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from backend.adapters.clock import Clock
from backend.db.models import (
    CapacityPool,
    Group,
    Installment,
    InstallmentStatus,
    Line,
    Order,
    Program,
    Site,
)
from backend.db.models import Session as ActivitySession
from backend.db.waiting_room import Rush, RushEntry
from backend.domain.roles import Action, require
from backend.domain.states import PLACE_HOLDING
from backend.services import availability, queries, rush_staff, views, waiting_room, waitlist
from backend.services.audit import Actor

SERIES_MINUTES = 30


def snapshot(db: Session, *, clock: Clock, actor: Actor) -> dict[str, Any]:
    """The current season's figures now (help desk and coordinators)."""
    require(actor.role, Action.LIVE_VIEW)
    season = queries.current_season(db)
    now = clock.now()
    sessions = _sessions(db, season.id, now)
    rush_id = waiting_room.open_rush_id(db, season.id)
    rush = None if rush_id is None else db.get(Rush, rush_id)
    starts = [_minute(now) - timedelta(minutes=SERIES_MINUTES - 1 - i)
              for i in range(SERIES_MINUTES)]
    in_season = _season_sessions(season.id)
    series = {
        "minutes": [views.iso(m) for m in starts],
        "places_taken": _per_minute(
            db, Line.created_at, starts,
            Line.status.in_(sorted(PLACE_HOLDING)), Line.session_id.in_(in_season),
        ),
        "payments": _per_minute(
            db, Installment.paid_at, starts,
            Installment.status == InstallmentStatus.PAID,
            Installment.order_id.in_(_season_orders(season.id)),
        ),
        "admissions": (
            [0] * SERIES_MINUTES
            if rush is None
            else _per_minute(db, RushEntry.admitted_at, starts, RushEntry.rush_id == rush.id)
        ),
    }
    return {
        "season": {"id": season.id, "name": season.name},
        "at": views.iso(now),
        "sessions": sessions,
        "totals": _totals(sessions),
        "waiting_room": None if rush is None else rush_staff.figures(db, rush, now),
        "payments": _payments(db, season.id),
        "series": series,
    }


def _season_sessions(season_id: int) -> Any:
    return (
        select(ActivitySession.id)
        .join(Group, Group.id == ActivitySession.group_id)
        .join(Program, Program.id == Group.program_id)
        .where(Program.season_id == season_id)
    )


def _season_orders(season_id: int) -> Any:
    return select(Line.order_id).where(
        Line.order_id.is_not(None), Line.session_id.in_(_season_sessions(season_id))
    )


def _sessions(db: Session, season_id: int, now: datetime) -> list[dict[str, Any]]:
    rows = db.execute(
        select(
            ActivitySession.id, ActivitySession.number, ActivitySession.starts_on,
            ActivitySession.ends_on, ActivitySession.pool_id, CapacityPool.capacity,
            CapacityPool.taken, Group.id.label("group_id"), Group.label, Site.name.label("site"),
            Program.id.label("program_id"), Program.name.label("program"), Program.category,
        )
        .join(CapacityPool, CapacityPool.id == ActivitySession.pool_id)
        .join(Group, Group.id == ActivitySession.group_id)
        .join(Program, Program.id == Group.program_id)
        .outerjoin(Site, Site.id == Group.site_id)
        .where(Program.season_id == season_id)
        .order_by(Program.id, Group.id, ActivitySession.number, ActivitySession.id)
    ).all()
    expired = waitlist.expired_places(db, [r.pool_id for r in rows], now=now)
    waiting = availability.waitlist_lengths(db)
    out = []
    for r in rows:
        taken = max(0, r.taken - expired.get(r.pool_id, 0))
        out.append({
            "id": r.id,
            "program_id": r.program_id,
            "program": r.program,
            "category": r.category.value,
            "group_id": r.group_id,
            "group": r.label,
            "site": r.site,
            "number": r.number,
            "starts_on": views.iso(r.starts_on),
            "ends_on": views.iso(r.ends_on),
            "capacity": r.capacity,
            "taken": taken,
            "fill_rate": round(taken / r.capacity, 4) if r.capacity else 0.0,
            "waitlist": waiting.get(r.id, 0),
        })
    return out


def _totals(sessions: list[dict[str, Any]]) -> dict[str, Any]:
    capacity = sum(s["capacity"] for s in sessions)
    taken = sum(s["taken"] for s in sessions)
    return {
        "capacity": capacity,
        "taken": taken,
        "fill_rate": round(taken / capacity, 4) if capacity else 0.0,
        "full_sessions": sum(1 for s in sessions if s["taken"] >= s["capacity"]),
        "waitlist": sum(s["waitlist"] for s in sessions),
    }


def _payments(db: Session, season_id: int) -> dict[str, Any]:
    """Orders by status (how many, their total) and the installments received."""
    orders = _season_orders(season_id)
    by_status = {
        status.value: {"orders": int(n), "total_cents": int(cents or 0)}
        for status, n, cents in db.execute(
            select(Order.status, func.count(Order.id), func.sum(Order.total_cents))
            .where(Order.id.in_(orders))
            .group_by(Order.status)
        ).all()
    }
    received = db.scalar(
        select(func.sum(Installment.amount_cents)).where(
            Installment.status == InstallmentStatus.PAID, Installment.order_id.in_(orders)
        )
    )
    return {"by_status": by_status, "received_cents": int(received or 0)}


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def _per_minute(
    db: Session,
    column: InstrumentedAttribute[Any],
    starts: list[datetime],
    *where: ColumnElement[bool],
) -> list[int]:
    """How many rows have `column` in each minute from `starts`: one statement, one count per
    minute (portable: no date arithmetic that SQLite and PostgreSQL spell differently)."""
    counts = [
        func.count().filter(and_(column >= start, column < start + timedelta(minutes=1)))
        for start in starts
    ]
    row = db.execute(
        select(*counts).where(column >= starts[0], *where)
    ).one()
    return [int(n or 0) for n in row]
