"""CSV exports for staff: a season's (or one group's) registrations, and a group's health
records for its animators. Every export is written in the audit log (who, when, which season or
group); every cell goes through `spreadsheet.safe_cell`.

Semicolon-separated UTF-8 with a byte-order mark: what Excel in French (Québec) opens as
columns, accents intact, with a double click.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from backend.adapters.clock import Clock
from backend.db.models import Family, Group, Line, LineOption, LineStatus, Person, Season
from backend.db.models import Session as ActivitySession
from backend.domain.eligibility import age_on, reference_date
from backend.domain.errors import RegistrationError
from backend.domain.roles import Action, require
from backend.domain.spreadsheet import safe_cell
from backend.services import audit, staff
from backend.services.audit import Actor

# What a registration list shows: confirmed places, offers and holds (a place taken), and the
# waitlist (no place yet). Cancelled and expired lines are history, not the list.
LISTED = (LineStatus.CONFIRMED, LineStatus.OFFERED, LineStatus.HELD, LineStatus.WAITLISTED)

REGISTRATION_COLUMNS = (
    "client_number", "child_last_name", "child_first_name", "birth_date", "age_30_september",
    "program", "group", "site", "week", "starts_on", "ends_on", "options", "tshirt_size",
    "status",
)


def to_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue()


def registrations_csv(
    db: Session, *, season_id: int, group_id: int | None, actor: Actor, clock: Clock
) -> str:
    require(actor.role, Action.EXPORT)
    season = db.get(Season, season_id)
    if season is None or (group_id is not None and db.get(Group, group_id) is None):
        raise RegistrationError("not_found")
    query = (
        select(Line)
        .join(ActivitySession, ActivitySession.id == Line.session_id)
        .join(Group, Group.id == ActivitySession.group_id)
        .join(Person, Person.id == Line.person_id)
        .where(Line.status.in_(LISTED), Group.program.has(season_id=season_id))
        .options(
            joinedload(Line.person).joinedload(Person.family),
            joinedload(Line.session).joinedload(ActivitySession.group),
            joinedload(Line.options).joinedload(LineOption.session_option),
        )
        .order_by(Group.id, ActivitySession.number, Person.last_name, Person.first_name, Line.id)
    )
    if group_id is not None:
        query = query.where(Group.id == group_id)
    lines = db.scalars(query).unique().all()
    rows = [_registration_row(line, season.year) for line in lines]
    audit.record(
        db, actor, "export_registrations", target_type="season", target_id=season_id,
        clock=clock, detail={"group_id": group_id, "rows": len(rows)},
    )
    return to_csv(REGISTRATION_COLUMNS, rows)


def _registration_row(line: Line, year: int) -> list[Any]:
    person, session = line.person, line.session
    group = session.group
    family: Family = person.family
    return [
        family.client_number,
        person.last_name,
        person.first_name,
        person.birth_date.isoformat(),
        age_on(person.birth_date, reference_date(year)),
        group.program.name,
        group.label,
        group.site.name if group.site is not None else "",
        session.number,
        session.starts_on.isoformat(),
        session.ends_on.isoformat(),
        ", ".join(sorted(o.session_option.code for o in line.options)),
        line.tshirt_size or "",
        line.status.value,
    ]


def health_csv(db: Session, group_id: int, *, actor: Actor, clock: Clock) -> str:
    """A group's children and their health records, from the roster its animators may read
    (`staff.group_roster` checks the role and the assignment)."""
    roster = staff.group_roster(db, group_id, actor=actor)
    fields: list[str] = []
    for child in roster["children"]:
        for key in child["health"] or {}:
            if key not in fields:
                fields.append(key)
    header = ["child_last_name", "child_first_name", "birth_date", "weeks", *fields]
    rows = [
        [
            child["last_name"],
            child["first_name"],
            child["birth_date"],
            " ".join(str(week) for week in child["sessions"]),
            *[_cell((child["health"] or {}).get(key)) for key in fields],
        ]
        for child in roster["children"]
    ]
    # Who exported which group and how many children: never a health value.
    audit.record(
        db, actor, "export_health", target_type="group", target_id=group_id, clock=clock,
        detail={"children": len(rows)},
    )
    return to_csv(header, rows)


def _cell(value: object) -> object:
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else value
