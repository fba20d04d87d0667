"""A child's lines that meet at the same time as sessions they ask for.

SQL preselects the child's held and confirmed lines whose dates cross the wanted sessions'
dates (a waitlist entry or an offer may overlap a held line: they block nothing);
`backend.domain.overlap.overlaps` alone decides (weekdays, hours). The same statement
row-locks the child (PostgreSQL), so two requests for one child are decided one after the
other: both cannot pass the check and each hold a week that overlaps the other's. Lock order:
the child first, then the pools (backend/services/capacity.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Date, DateTime, and_, bindparam, func, or_, select, true
from sqlalchemy.orm import Session, joinedload

from backend.db.models import Group, Line, LineStatus, Person, Program, Site
from backend.db.models import Session as ActivitySession
from backend.domain.errors import RegistrationError
from backend.domain.overlap import Slot, overlaps, parse_weekdays
from backend.services import views


@dataclass(frozen=True)
class Taken:
    """One of the child's held or confirmed lines, with what the bot names it by."""

    line_id: int
    session_id: int
    slot: Slot
    program: str
    group: str
    site: str | None
    week: int


def slot_of(session: ActivitySession) -> Slot:
    return Slot(
        starts_on=session.starts_on,
        ends_on=session.ends_on,
        weekdays=parse_weekdays(session.meets_weekdays),
        from_time=session.meets_from,
        until_time=session.meets_until,
    )


def lock_child_and_read(
    db: Session,
    child_id: int,
    sessions: Sequence[ActivitySession],
    *,
    now: datetime,
    except_line_ids: Iterable[int] = (),
    with_family: bool = False,
) -> tuple[Person | None, list[Taken]]:
    """Load and row-lock the child, with their blocking lines whose dates cross the
    sessions' span (one statement): the candidates `conflict_for` decides on. A hold past
    its expiry blocks nothing: it is released before any place is taken. (None, []) when
    there is no such person. `with_family` loads `child.family` in the same statement (only
    the child's row is locked)."""
    skip = sorted(set(except_line_ids))
    params: dict[str, Any] = {
        "child_id": child_id,
        "now": now,
        "first": min(s.starts_on for s in sessions),
        "last": max(s.ends_on for s in sessions),
    }
    if skip:
        params["skip"] = skip
    rows = db.execute(_child_statement(bool(skip), with_family), params).all()
    if not rows:
        return None, []
    return rows[0][0], [
        Taken(
            line_id=row.line_id,
            session_id=row.session_id,
            slot=Slot(
                starts_on=row.starts_on,
                ends_on=row.ends_on,
                weekdays=parse_weekdays(row.meets_weekdays),
                from_time=row.meets_from,
                until_time=row.meets_until,
            ),
            program=row.program,
            group=row.group,
            site=row.site,
            week=row.number,
        )
        for row in rows
        if row.line_id is not None
    ]


@cache
def _child_statement(skipping: bool, with_family: bool) -> Any:
    """`lock_child_and_read`'s statement, built once per variant: building it took longer
    than running it, and on SQLite it runs under the database's single write lock."""
    on = and_(
        Line.person_id == Person.id,
        or_(
            Line.status == LineStatus.CONFIRMED,
            and_(
                Line.status == LineStatus.HELD,
                Line.hold_expires_at > bindparam("now", type_=DateTime()),
            ),
        ),
        ActivitySession.starts_on <= bindparam("last", type_=Date()),
        ActivitySession.ends_on >= bindparam("first", type_=Date()),
        Line.id.not_in(bindparam("skip", expanding=True)) if skipping else true(),
    )
    inner = (
        Line.__table__.join(ActivitySession.__table__, ActivitySession.id == Line.session_id)
        .join(Group.__table__, Group.id == ActivitySession.group_id)
        .join(Program.__table__, Program.id == Group.program_id)
        .outerjoin(Site.__table__, Site.id == Group.site_id)
    )
    query = (
        select(
            Person,
            Line.id.label("line_id"),
            ActivitySession.id.label("session_id"),
            ActivitySession.number,
            ActivitySession.starts_on,
            ActivitySession.ends_on,
            ActivitySession.meets_weekdays,
            ActivitySession.meets_from,
            ActivitySession.meets_until,
            Program.name.label("program"),
            Group.label.label("group"),
            Site.name.label("site"),
        )
        .select_from(Person.__table__.outerjoin(inner, on))
        .where(Person.id == bindparam("child_id"))
        .order_by(func.coalesce(Line.id, 0))
        .with_for_update(of=Person.__table__)
    )
    return query.options(joinedload(Person.family)) if with_family else query


def conflict_for(session: ActivitySession, taken: Iterable[Taken]) -> Taken | None:
    """The first of the child's lines (lowest id) meeting at the same time as `session`; a
    line in that very session is not an overlap (already_registered says it)."""
    wanted = slot_of(session)
    for line in sorted(taken, key=lambda t: t.line_id):
        if line.session_id != session.id and overlaps(wanted, line.slot):
            return line
    return None


def refusal(session_id: int, conflict: Taken) -> RegistrationError:
    """overlapping_session, with what the bot needs to name the line already held."""
    return RegistrationError(
        "overlapping_session",
        session_id=session_id,
        conflict_line_id=conflict.line_id,
        conflict_session_id=conflict.session_id,
        program=conflict.program,
        group=conflict.group,
        site=conflict.site,
        week=conflict.week,
        starts_on=views.iso(conflict.slot.starts_on),
        ends_on=views.iso(conflict.slot.ends_on),
    )
