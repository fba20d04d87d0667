"""What the help desk answers without knowing the family: the city's facts (its file and the
settings the services run with), the season's dates, and price quotes from the live catalog.

Prices, ages and schedules are not repeated here: they are in the catalog (`catalog_view`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from backend.city import City
from backend.db.models import Group, Program
from backend.db.models import Session as ActivitySession
from backend.domain import help_desk, installments, pricing
from backend.domain.errors import RegistrationError
from backend.domain.states import Category
from backend.services import queries, views
from backend.settings import Settings


def facts_view(db: Session, *, city: City, settings: Settings) -> dict[str, Any]:
    season = queries.current_season(db)
    first_cents, _ = installments.split_in_two(100_00)
    return {
        "city": {
            "name": settings.city_name,
            "phone": settings.city_phone,
            # the hours the help desk keeps (HELP_DESK_HOURS, the city's file by default): the
            # bot says these, and offers a callback outside them
            "hours": {
                str(day): [min(o.opens for o in spans).strftime("%H:%M"),
                           max(o.closes for o in spans).strftime("%H:%M")]
                for day, spans in sorted(help_desk.parse_hours(settings.help_desk_hours).items())
            },
        },
        "urls": city.urls.model_dump(),
        "season": {
            "name": season.name,
            "year": season.year,
            "residents_open_at": views.iso(season.residents_open_at),
            "nonresidents_open_at": views.iso(season.nonresidents_open_at),
            "closes_at": views.iso(season.closes_at),
            "releve24_by": f"{season.year + 1}-{city.policies.releve24_by}",
        },
        "policies": {
            # the values the services run with, which the city's file sets by default
            "hold_minutes": settings.hold_minutes,
            "pay_link_minutes": settings.pay_link_minutes,
            "offer_hours": settings.offer_hours,
            "two_installments_min_cents": installments.MIN_TWO_INSTALLMENTS_CENTS,
            "first_installment_percent": first_cents * 100 // 100_00,
            # the settings the cancellations run with (the city's file sets their defaults)
            "refunds": {
                "fee_cents": settings.cancellation_fee_cents,
                "deadline_days": settings.refund_deadline_days,
            },
            "resident_proofs": city.policies.resident_proofs,
            "what_to_bring": city.policies.what_to_bring,
            "browsers": city.policies.browsers,
        },
    }


def quote(
    db: Session, *, program_id: int, weeks: int, options: frozenset[str]
) -> dict[str, Any]:
    """What `weeks` weeks (or sessions) of a program would cost, with `options`, for a resident
    and for a non-resident: the first sessions of its first group, priced as lines are. An
    option the program does not offer is left out and named in `not_offered`. Raises
    not_found (no such program this season)."""
    season = queries.current_season(db)
    program = db.scalars(
        select(Program)
        .where(Program.id == program_id, Program.season_id == season.id)
        .options(
            selectinload(Program.groups)
            .selectinload(Group.sessions)
            .selectinload(ActivitySession.options)
        )
    ).first()
    if program is None or not program.groups:
        raise RegistrationError("not_found")
    group = min(program.groups, key=lambda g: g.id)
    sessions = sorted(group.sessions, key=lambda s: s.number)[:weeks]
    totals = {True: 0, False: 0}
    offered: set[str] = set()
    for session in sessions:
        chosen = {o.code: o.price_cents for o in session.options if o.code in options}
        offered |= set(chosen)
        for resident in totals:
            base = pricing.session_price(
                resident=resident,
                price_resident_cents=session.price_resident_cents,
                price_nonresident_cents=session.price_nonresident_cents,
            )
            totals[resident] += pricing.line_price(base, chosen.values())
    return {
        "program_id": program.id,
        "program": program.name,
        "per_week": program.category == Category.DAY_CAMP,
        "weeks": len(sessions),
        "options": sorted(offered),
        "not_offered": sorted(options - offered),
        "resident_cents": totals[True],
        "nonresident_cents": totals[False],
    }
