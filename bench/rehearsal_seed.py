"""Registration night's database before the evening, for bench/rush_rehearsal.py: the demo
city, more day-camp sites when the crowd wants more group-weeks than the demo has, the families
(a payer and one to three children each, resident, approved) with their bot tokens, and a
coordinator with a bearer token for the staff API. Families go in by bulk inserts."""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from backend.adapters.clock import Clock
from backend.db.engine import make_engine, make_session_factory, transaction
from backend.db.models import (
    AccountStatus,
    Category,
    Family,
    Person,
    Program,
    Season,
    Site,
)
from backend.demo import CAMP_AGE_GROUPS, CAMP_WEEKS, add_camp_site, migrate, seed_demo
from backend.services import staff_accounts
from backend.services.auth import issue_family_token

# What a family asks for on average (children x weeks), to size the camp: the night should sell
# most places and leave some families on waitlists, as a real opening does.
MEAN_DEMAND = 2.0 * 2.5
SUPPLY_SHARE = 0.7
PLACES_PER_SITE = len(CAMP_AGE_GROUPS) * CAMP_WEEKS * 20
COORDINATOR = "coordo-repetition"


@dataclass
class Household:
    family_id: int
    token: str
    children: list[int] = field(default_factory=list)


@dataclass
class Seeded:
    households: list[Household]
    staff_token: str
    season_id: int
    camp_sites: int


def extra_sites_for(families: int) -> int:
    wanted = families * MEAN_DEMAND * SUPPLY_SHARE / PLACES_PER_SITE
    return max(0, round(wanted) - 2)  # the demo city has two camp sites


def _add_camp_sites(db: Session, count: int) -> None:
    """More sites of the demo's day camp: its three age groups, eight weeks, 20 places."""
    camp = db.scalars(select(Program).where(Program.category == Category.DAY_CAMP)).first()
    assert camp is not None
    for n in range(count):
        site = Site(name=f"Parc de quartier {n + 1}", address="Val-Fleuri")
        db.add(site)
        add_camp_site(db, camp, site)
    db.flush()


def _add_families(db: Session, count: int, now: datetime, rng: random.Random) -> list[Household]:
    rows = [{"client_number": f"5{n:06d}", "phone": f"+1819{5550000 + n:07d}",
             "phone_can_text": True, "email": None, "address": "Val-Fleuri", "resident": True,
             "status": AccountStatus.APPROVED, "created_at": now} for n in range(count)]
    db.execute(insert(Family), rows)
    ids = [int(i) for i in db.scalars(
        select(Family.id).where(Family.client_number.like("5%")).order_by(Family.id))]
    people: list[dict[str, object]] = []
    kids: list[int] = []
    for n, family_id in enumerate(ids):
        people.append({"family_id": family_id, "first_name": "Parent", "last_name": f"R{n}",
                       "birth_date": date(1985, 1, 1), "is_adult": True, "is_payer": True})
        kids.append(rng.choices((1, 2, 3), weights=(40, 45, 15))[0])
        for k in range(kids[-1]):
            # 5 to 12 years old at the season's reference date (2027-09-30): the camp's ages
            born = date(2015, 10, 1) + timedelta(days=rng.randrange(7 * 365))
            people.append({"family_id": family_id, "first_name": f"Enfant{k + 1}",
                           "last_name": f"R{n}", "birth_date": born, "is_adult": False,
                           "tshirt_size": "P"})
    db.execute(insert(Person), people)
    children: dict[int, list[int]] = {}
    for person_id, family_id in db.execute(
        select(Person.id, Person.family_id)
        .where(Person.family_id.in_(ids), Person.is_adult.is_(False)).order_by(Person.id)
    ):
        children.setdefault(int(family_id), []).append(int(person_id))
    return [Household(f, "", children[f]) for f in ids]


def prepare(url: str, families: int, *, clock: Clock, rng: random.Random) -> Seeded:
    migrate(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    try:
        with transaction(factory) as db:
            seed_demo(db, clock=clock)
            extra = extra_sites_for(families)
            _add_camp_sites(db, extra)
            households = _add_families(db, families, clock.now(), rng)
        with transaction(factory) as db:
            for h in households:
                h.token = issue_family_token(db, h.family_id, via="bench", clock=clock,
                                             minutes=24 * 60)
            staff_accounts.create_account(db, COORDINATOR, secrets.token_urlsafe(18),
                                          "coordinator", clock=clock)
            staff = staff_accounts.issue_token(db, COORDINATOR, clock=clock, days=2)
            season_id = int(db.scalars(select(Season.id)).one())
    finally:
        engine.dispose()
    return Seeded(households, str(staff["token"]), season_id, 2 + extra)
