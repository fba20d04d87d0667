"""The season and the live catalog (shapes: docs/API.md, "Season and catalog")."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from backend.adapters.clock import Clock
from backend.db.models import Group, Person, Program, Season, Site
from backend.db.models import Session as ActivitySession
from backend.domain.eligibility import age_on, reference_date
from backend.domain.errors import RegistrationError
from backend.domain.season import Window
from backend.services import capacity, queries, views, waitlist


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


def season_view(db: Session, *, clock: Clock, family_id: int | None = None) -> dict[str, Any]:
    """The current season. With `family_id`, adds `open_for_family` and `opens_for_family_at`
    (residents and non-residents open at different instants). Raises not_found if no season."""
    season = queries.current_season(db)
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
    result: dict[str, Any] = {"season": season_view(db, clock=clock, family_id=family_id)}
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
    pool_ids: list[int] = []
    for program in programs:
        for group in program.groups:
            for s in group.sessions:
                pool_ids.append(s.pool_id)
                pool_ids.extend(o.pool_id for o in s.options)
    pools = capacity.counts(db, pool_ids)
    # Holds and offers that ran out but were not released yet (lazy expiry) still count in
    # `taken`: they are not counted as taken here, so "complet" is never said of a place the
    # next request would get. The place of an expired line goes to the waitlist first, so
    # waiting entries come off what a new parent could get.
    expired = waitlist.expired_places(db, pool_ids, now=clock.now())
    waiting = waitlist.waitlist_lengths(db)
    sites = db.scalars(select(Site).order_by(Site.id)).all()
    site_names = {s.id: s.name for s in sites}
    result["sites"] = [{"id": s.id, "name": s.name} for s in sites]

    def free(pool_id: int, waiting_lines: int = 0) -> int:
        cap, taken = pools[pool_id]
        return max(0, cap - taken + expired.get(pool_id, 0) - waiting_lines)

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
                            "capacity": pools[s.pool_id][0],
                            "available": free(s.pool_id, int(waiting.get(s.id, 0))),
                            "waitlist_length": int(waiting.get(s.id, 0)),
                            "price_resident_cents": s.price_resident_cents,
                            "price_nonresident_cents": s.price_nonresident_cents,
                            "options": [
                                {
                                    "code": o.code,
                                    "price_cents": o.price_cents,
                                    "available": free(o.pool_id),
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
