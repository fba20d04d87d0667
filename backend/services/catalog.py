"""The season and the live catalog (shapes: docs/API.md, "Season and catalog")."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from backend.adapters.clock import Clock
from backend.db.models import Group, Person, Program, Season, SessionOption, Site
from backend.db.models import Session as ActivitySession
from backend.domain.eligibility import age_on, reference_date
from backend.domain.errors import RegistrationError
from backend.domain.season import Window
from backend.services import availability, queries, views


def _season_dict(season: Season) -> dict[str, Any]:
    return {
        "id": season.id,
        "name": season.name,
        "year": season.year,
        "reference_date": views.iso(reference_date(season.year)),
        "residents_open_at": views.iso(season.residents_open_at),
        "nonresidents_open_at": views.iso(season.nonresidents_open_at),
        "closes_at": views.iso(season.closes_at),
        "payment_mode": season.payment_mode.value,
    }


def season_view(
    db: Session, *, clock: Clock, family_id: int | None = None, season: Season | None = None
) -> dict[str, Any]:
    """The current season (or `season`, already read). With `family_id`, adds `open_for_family`
    and `opens_for_family_at` (residents and non-residents open at different instants). Raises
    not_found if no season."""
    season = season or queries.current_season(db)
    view = _season_dict(season)
    if family_id is not None:
        family = queries.get_family(db, family_id)
        window = Window(season.residents_open_at, season.nonresidents_open_at, season.closes_at)
        view["open_for_family"] = window.is_open(clock.now(), resident=family.resident)
        view["opens_for_family_at"] = views.iso(window.opens_at(resident=family.resident))
    return view


def catalog_view(
    db: Session, *, clock: Clock, family_id: int | None = None, child_id: int | None = None
) -> dict[str, Any]:
    """The whole catalog with live availability. With `child_id` (needs `family_id`; a child of
    another family is not_found), only the groups the child's age at 30 September allows, plus
    `"child": {"id", "first_name", "age_at_reference"}`."""
    season = queries.current_season(db)
    child_age: int | None = None
    result: dict[str, Any] = {
        "season": season_view(db, clock=clock, family_id=family_id, season=season)
    }
    if child_id is not None:
        child = db.get(Person, child_id)
        if family_id is None or child is None or child.family_id != family_id or child.is_adult:
            raise RegistrationError("not_found")
        child_age = age_on(child.birth_date, reference_date(season.year))
        result["child"] = {
            "id": child.id,
            "first_name": child.first_name,
            "age_at_reference": child_age,
        }
    programs = db.scalars(
        select(Program)
        .where(Program.season_id == season.id)
        .order_by(Program.id)
        .options(
            selectinload(Program.groups)
            .selectinload(Group.sessions)
            .selectinload(ActivitySession.options)
        )
    ).all()
    numbers = availability.live_numbers(
        db,
        [(s.id, s.pool_id) for p in programs for g in p.groups for s in g.sessions],
        [(s.id, o.code, o.pool_id) for p in programs for g in p.groups for s in g.sessions
         for o in s.options],
        now=clock.now(),
    )
    sites = db.scalars(select(Site).order_by(Site.id)).all()
    site_names = {s.id: s.name for s in sites}
    result["sites"] = [{"id": s.id, "name": s.name} for s in sites]

    out_programs = []
    for program in programs:
        groups = []
        for group in program.groups:
            if child_age is not None and not group.min_age <= child_age <= group.max_age:
                continue
            groups.append(
                {
                    "id": group.id,
                    "label": group.label,
                    "site_id": group.site_id,
                    "site": site_names.get(group.site_id) if group.site_id else None,
                    "level": group.level,
                    "min_age": group.min_age,
                    "max_age": group.max_age,
                    "sessions": [
                        {
                            "id": s.id,
                            "number": s.number,
                            "starts_on": views.iso(s.starts_on),
                            "ends_on": views.iso(s.ends_on),
                            "meets": s.meets,
                            "capacity": numbers[s.id]["capacity"],
                            "available": numbers[s.id]["available"],
                            "waitlist_length": numbers[s.id]["waitlist_length"],
                            "price_resident_cents": s.price_resident_cents,
                            "price_nonresident_cents": s.price_nonresident_cents,
                            "options": [
                                {
                                    "code": o.code,
                                    "price_cents": o.price_cents,
                                    "available": numbers[s.id]["options"][o.code],
                                }
                                for o in sorted(s.options, key=lambda o: o.id)
                            ],
                        }
                        for s in group.sessions
                    ],
                }
            )
        if child_age is not None and not groups:
            continue
        out_programs.append(
            {
                "id": program.id,
                "name": program.name,
                "category": program.category.value,
                "needs_tshirt": program.needs_tshirt,
                "description": program.description,
                "groups": groups,
            }
        )
    result["programs"] = out_programs
    return result


def availability_view(db: Session, *, clock: Clock, family_id: int | None = None) -> dict[str, Any]:
    """The current season (as `season_view`) and the live numbers of each of its weeks."""
    season = queries.current_season(db)
    in_season = (
        select(ActivitySession.id)
        .join(Group, Group.id == ActivitySession.group_id)
        .join(Program, Program.id == Group.program_id)
        .where(Program.season_id == season.id)
    )
    sessions = db.execute(
        select(ActivitySession.id, ActivitySession.pool_id)
        .where(ActivitySession.id.in_(in_season))
        .order_by(ActivitySession.id)
    ).all()
    options = db.execute(
        select(SessionOption.session_id, SessionOption.code, SessionOption.pool_id)
        .where(SessionOption.session_id.in_(in_season))
        .order_by(SessionOption.id)
    ).all()
    numbers = availability.live_numbers(
        db,
        [(int(s), int(p)) for s, p in sessions],
        [(int(s), str(c), int(p)) for s, c, p in options],
        now=clock.now(),
    )
    return {
        "season": season_view(db, clock=clock, family_id=family_id, season=season),
        "sessions": [
            {
                "id": session_id,
                "capacity": n["capacity"],
                "available": n["available"],
                "waitlist_length": n["waitlist_length"],
                "options": [{"code": c, "available": a} for c, a in n["options"].items()],
            }
            for session_id, n in numbers.items()
        ],
    }
