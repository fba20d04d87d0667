"""The demo data (fixed: the README and the tests rely on it).

`seed_demo` is idempotent: it does nothing when the season "Été 2027" exists. The full week
(Parc des Érables, 7-8 ans, semaine 1) is full because 20 filler families hold confirmed
registrations in it, so the counter always equals real rows.

`python -m backend.demo` migrates the database at DATABASE_URL (alembic upgrade head) and seeds it.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.adapters.clock import Clock, SystemClock, from_local
from backend.db.models import (
    AccountStatus,
    CapacityPool,
    Cart,
    Category,
    Family,
    Group,
    HealthRecord,
    Line,
    LineStatus,
    PaymentMode,
    Person,
    Program,
    Season,
    SessionOption,
    Site,
)
from backend.db.models import Session as ActivitySession
from backend.services import capacity

SEASON_NAME = "Été 2027"
CAMP_FIRST_MONDAY = date(2027, 6, 28)
CAMP_WEEKS = 8
CAMP_AGE_GROUPS = ((5, 6), (7, 8), (9, 12))
SITES = ("Parc des Érables", "Parc de la Rivière")
FULL_WEEK = ("Parc des Érables", "7-8 ans", 1)


def _pool(db: Session, places: int) -> CapacityPool:
    pool = CapacityPool(capacity=places, taken=0)
    db.add(pool)
    return pool


def add_camp_site(db: Session, camp: Program, site: Site) -> None:
    """The day camp at one site: its three age groups, eight weeks of 20 places, the garde
    option (15 places a week) and the bike option (10 a week, shared by the site's groups)."""
    velo_pools = [_pool(db, 10) for _ in range(CAMP_WEEKS)]  # one per site-week
    for lo, hi in CAMP_AGE_GROUPS:
        group = Group(program=camp, site=site, label=f"{lo}-{hi} ans", min_age=lo, max_age=hi)
        db.add(group)
        for week in range(1, CAMP_WEEKS + 1):
            monday = CAMP_FIRST_MONDAY + timedelta(weeks=week - 1)
            session = ActivitySession(
                group=group,
                number=week,
                starts_on=monday,
                ends_on=monday + timedelta(days=4),
                meets="du lundi au vendredi, 9 h à 16 h",
                meets_weekdays="12345",
                meets_from=time(9, 0),
                meets_until=time(16, 0),
                pool=_pool(db, 20),
                price_resident_cents=9500,
                price_nonresident_cents=14000,
            )
            session.options.append(
                SessionOption(code="garde", price_cents=4000, pool=_pool(db, 15))
            )
            session.options.append(
                SessionOption(code="velo", price_cents=1500, pool=velo_pools[week - 1])
            )
            db.add(session)


def _family(
    db: Session,
    clock: Clock,
    *,
    client_number: str,
    phone: str,
    email: str | None,
    resident: bool,
    status: AccountStatus,
    address: str,
    adult: tuple[str, str, date],
) -> Family:
    family = Family(
        client_number=client_number,
        phone=phone,
        phone_can_text=True,
        email=email,
        address=address,
        resident=resident,
        status=status,
        created_at=clock.now(),
    )
    first, last, born = adult
    family.members.append(
        Person(first_name=first, last_name=last, birth_date=born, is_adult=True, is_payer=True)
    )
    db.add(family)
    return family


def _child(
    family: Family, first: str, last: str, born: date, size: str | None = None
) -> Person:
    child = Person(
        first_name=first, last_name=last, birth_date=born, is_adult=False, tshirt_size=size
    )
    family.members.append(child)
    return child


def seed_demo(db: Session, *, clock: Clock) -> bool:
    """Create the demo city's season, catalog and families; False if already there."""
    if db.scalar(select(Season.id).where(Season.name == SEASON_NAME)) is not None:
        return False
    season = Season(
        name=SEASON_NAME,
        year=2027,
        residents_open_at=from_local(datetime(2027, 4, 13, 19, 0)),
        nonresidents_open_at=from_local(datetime(2027, 4, 20, 18, 0)),
        closes_at=from_local(datetime(2027, 6, 20, 23, 59)),
        payment_mode=PaymentMode.NORMAL,
    )
    db.add(season)
    sites = {name: Site(name=name, address="") for name in SITES}
    sites["Parc des Érables"].address = "250, rue des Érables, Val-Fleuri"
    sites["Parc de la Rivière"].address = "12, chemin de la Rivière, Val-Fleuri"
    db.add_all(sites.values())

    camp = Program(
        season=season,
        name="Camp de jour",
        category=Category.DAY_CAMP,
        description="Camp de jour estival, du lundi au vendredi, de 9 h à 16 h.",
        needs_tshirt=True,
    )
    db.add(camp)
    for site in sites.values():
        add_camp_site(db, camp, site)

    swim = Program(
        season=season,
        name="Natation Junior",
        category=Category.SWIMMING,
        description="Cours de natation Junior, 8 samedis matin.",
    )
    db.add(swim)
    for level in range(1, 11):
        group = Group(program=swim, label=f"Niveau {level}", level=level, min_age=5, max_age=12)
        db.add(group)
        db.add(
            ActivitySession(
                group=group,
                number=1,
                starts_on=date(2027, 7, 3),
                ends_on=date(2027, 8, 21),
                meets="8 samedis matin",
                meets_weekdays="6",
                meets_from=time(9, 0),
                meets_until=time(12, 0),
                pool=_pool(db, 8),
                price_resident_cents=8500,
                price_nonresident_cents=12500,
            )
        )

    soccer = Program(
        season=season,
        name="Soccer récréatif",
        category=Category.SPORT,
        description="Soccer récréatif, 8 semaines.",
    )
    db.add(soccer)
    for label, lo, hi in (("U8", 6, 7), ("U10", 8, 9)):
        group = Group(program=soccer, label=label, min_age=lo, max_age=hi)
        db.add(group)
        db.add(
            ActivitySession(
                group=group,
                number=1,
                starts_on=date(2027, 6, 29),
                ends_on=date(2027, 8, 17),
                meets="8 mardis, 18 h 30",
                meets_weekdays="2",
                meets_from=time(18, 30),
                meets_until=time(20, 0),
                pool=_pool(db, 16),
                price_resident_cents=6000,
                price_nonresident_cents=9000,
            )
        )

    julie = _family(
        db, clock, client_number="100001", phone="+14185550101",
        email="julie.tremblay@example.com", resident=True, status=AccountStatus.APPROVED,
        address="45, rue des Pins, Val-Fleuri", adult=("Julie", "Tremblay", date(1986, 3, 2)),
    )
    lea = _child(julie, "Léa", "Tremblay", date(2018, 5, 14), "P")
    thomas = _child(julie, "Thomas", "Tremblay", date(2020, 4, 3), "TP")
    # Léa's fiche is complete; Thomas's, from the old portal, lacks the authorisations: the
    # reminder a week before camp and the bot's link have something to show.
    lea.health = HealthRecord(
        allergies="Arachides", epipen=True, medication="EpiPen (auto-injecteur)", glasses=False,
        emergency_contact_name="Julie Tremblay", emergency_contact_relation="Mère",
        emergency_contact_phone="+14185550101", may_give_first_aid=True, may_photograph=True,
        may_leave_alone=False, updated_at=clock.now(),
    )
    thomas.health = HealthRecord(
        allergies="", medication="", glasses=True,
        emergency_contact_name="Julie Tremblay", emergency_contact_phone="+14185550101",
        updated_at=clock.now(),
    )
    marc = _family(
        db, clock, client_number="100002", phone="+14185550102", email=None, resident=True,
        status=AccountStatus.APPROVED, address="8, avenue du Lac, Val-Fleuri",
        adult=("Marc", "Gagnon", date(1982, 11, 20)),
    )
    _child(marc, "Emma", "Gagnon", date(2016, 9, 10))
    sophie = _family(
        db, clock, client_number="100003", phone="+14185550103", email=None, resident=True,
        status=AccountStatus.PENDING, address="130, rue Principale, Val-Fleuri",
        adult=("Sophie", "Roy", date(1990, 6, 8)),
    )
    _child(sophie, "Noah", "Roy", date(2020, 7, 1))
    karim = _family(
        db, clock, client_number="100004", phone="+15815550104", email=None, resident=False,
        status=AccountStatus.APPROVED, address="77, boulevard Laurier, Québec",
        adult=("Karim", "Haddad", date(1985, 1, 15)),
    )
    _child(karim, "Yasmine", "Haddad", date(2019, 3, 22))
    db.flush()
    _fill_full_week(db, clock, camp)
    db.flush()
    return True


def _fill_full_week(db: Session, clock: Clock, camp: Program) -> None:
    site_name, label, week = FULL_WEEK
    group = next(g for g in camp.groups if g.label == label and g.site and g.site.name == site_name)
    session = next(s for s in group.sessions if s.number == week)
    now = clock.now()
    for i in range(session.pool.capacity):
        family = _family(
            db, clock, client_number=f"9{i + 1:05d}", phone=f"+1418555{9000 + i:04d}", email=None,
            resident=True, status=AccountStatus.APPROVED, address="Val-Fleuri",
            adult=("Parent", f"Inscrit{i + 1}", date(1985, 1, 1)),
        )
        child = _child(family, "Enfant", f"Inscrit{i + 1}", date(2019, 11, 1 + i % 28), "M")
        cart = Cart(family=family, is_open=True, created_at=now)
        db.add(cart)
        db.flush()
        if not capacity.take(db, session.pool_id):
            raise RuntimeError("demo week already full")
        db.add(
            Line(
                cart_id=cart.id, person_id=child.id, session_id=session.id,
                status=LineStatus.CONFIRMED, base_price_cents=session.price_resident_cents,
                tshirt_size="M", created_at=now,
            )
        )


def migrate(url: str | None = None) -> None:
    """alembic upgrade head on `url` (default: DATABASE_URL, else the settings' default)."""
    from alembic import command
    from alembic.config import Config

    config = Config(str(Path(__file__).resolve().parent.parent / "alembic.ini"))
    if url:
        config.attributes["url"] = url
    command.upgrade(config, "head")


# The demo's staff accounts (README, "Demo mode"): one per role, so that a visitor can try the
# staff API and CLI. Only `make run`'s database gets them, never a city's.
DEMO_STAFF = (
    ("coordo", "coordination-demo", "coordinator"),
    ("accueil", "accueil-demo-2027", "help_desk"),
)


def _seed_demo_staff(db: Session) -> None:
    from backend.services import staff_accounts

    for username, password, role in DEMO_STAFF:
        staff_accounts.create_account(db, username, password, role, clock=SystemClock())


def main() -> None:
    from backend.db.engine import make_engine, make_session_factory, transaction
    from backend.settings import Settings

    settings = Settings.from_env()
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    with transaction(make_session_factory(engine)) as db:
        created = seed_demo(db, clock=SystemClock())
        if created:
            _seed_demo_staff(db)
    engine.dispose()
    print("demo data seeded" if created else "demo data already present")


if __name__ == "__main__":
    main()
