"""A fresh copy of the demo city with bench families, for one registration-night run.

Each bench family has one child whose age fits the group of the session they will ask for, and
an identified family token: every request of a run comes from a family never seen before, so
a time-bounded run needs as many families as it may send requests. Rows go in with one
multi-row INSERT per table (the ORM one by one would take longer than the run).
"""

from __future__ import annotations

import os
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Engine, create_engine, insert, select, text

from backend.adapters.demo_clock import OffsetClock
from backend.db.access import FamilySession
from backend.db.engine import make_engine, make_session_factory, transaction
from backend.db.models import AccountStatus, Family, Group, Person, Site
from backend.db.models import Session as ActivitySession
from backend.demo import migrate, seed_demo
from backend.domain.eligibility import check_age
from backend.services.auth import _hash

PG_ADMIN = os.environ.get("BENCH_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@dataclass(frozen=True)
class Ask:
    """One request of a run: this family's token, its child, the week asked for."""

    token: str
    family_id: int
    child_id: int
    session_id: int


@dataclass(frozen=True)
class Target:
    """A session some requests ask for: its pool, and what it looked like before the run."""

    session_id: int
    pool_id: int
    capacity: int
    taken_before: int
    waiting_before: int


def hot_session(engine: Engine) -> int:
    """Semaine 2 of the 7-8 ans at Parc de la Rivière: the week everybody wants."""
    with engine.connect() as conn:
        site = conn.scalar(select(Site.id).where(Site.name == "Parc de la Rivière"))
        group = conn.scalar(select(Group.id).where(Group.site_id == site, Group.label == "7-8 ans"))
        return int(conn.scalar(select(ActivitySession.id).where(
            ActivitySession.group_id == group, ActivitySession.number == 2)))


def every_session(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return [int(i) for i in conn.scalars(select(ActivitySession.id).order_by(
            ActivitySession.group_id, ActivitySession.number))]


def targets(engine: Engine, session_ids: list[int]) -> dict[int, Target]:
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT s.id, s.pool_id, p.capacity, p.taken, (SELECT count(*) FROM line l"
            " WHERE l.session_id = s.id AND l.status = 'waitlisted') FROM session s"
            " JOIN capacity_pool p ON p.id = s.pool_id")).all()
    wanted = set(session_ids)
    return {int(r[0]): Target(int(r[0]), int(r[1]), int(r[2]), int(r[3]), int(r[4]))
            for r in rows if int(r[0]) in wanted}


def _birth_dates(engine: Engine, year: int) -> dict[int, date]:
    """session id -> a birth date the session's group accepts (the domain's age rule)."""
    with engine.connect() as conn:
        rows = conn.execute(select(ActivitySession.id, Group.min_age, Group.max_age).join(
            Group, Group.id == ActivitySession.group_id)).all()
    out: dict[int, date] = {}
    for sid, lo, hi in rows:
        born = date(year - (lo + hi) // 2 - 1, 6, 1)
        assert check_age(born, year, lo, hi).eligible, (sid, born)
        out[int(sid)] = born
    return out


def seed(url: str) -> Engine:
    """Migrate and seed the demo city at `url`; an engine on it."""
    migrate(url)
    engine = make_engine(url)
    with transaction(make_session_factory(engine)) as db:
        seed_demo(db, clock=OffsetClock.demo())
    return engine


def add_families(engine: Engine, plan: list[int]) -> list[Ask]:
    """One family per entry of `plan` (the session its request will ask for): the requests,
    in order."""
    now = OffsetClock.demo().now()
    with engine.connect() as conn:
        year = int(conn.scalar(text("SELECT max(year) FROM season")))
        first_family = int(conn.scalar(text("SELECT coalesce(max(id), 0) FROM family"))) + 1
        first_person = int(conn.scalar(text("SELECT coalesce(max(id), 0) FROM person"))) + 1
    born = _birth_dates(engine, year)
    asks: list[Ask] = []
    families, people, sessions = [], [], []
    for n, sid in enumerate(plan):
        fid, pid, token = first_family + n, first_person + n, secrets.token_urlsafe(24)
        families.append({"id": fid, "client_number": f"8{n:06d}", "phone": f"+1819{n:07d}",
                         "phone_can_text": True, "email": None, "address": "", "resident": True,
                         "status": AccountStatus.APPROVED, "created_at": now})
        people.append({"id": pid, "family_id": fid, "first_name": "Enfant",
                       "last_name": f"Banc{n}", "birth_date": born[sid], "is_adult": False,
                       "is_payer": False, "tshirt_size": None})
        sessions.append({"token_hash": _hash(token), "family_id": fid, "created_at": now,
                         "expires_at": now + timedelta(hours=4), "via": "bench"})
        asks.append(Ask(token, fid, pid, sid))
    with engine.begin() as conn:
        for table, rows in ((Family, families), (Person, people), (FamilySession, sessions)):
            for i in range(0, len(rows), 2000):
                conn.execute(insert(table.__table__), rows[i : i + 2000])  # type: ignore[attr-defined]
        if engine.dialect.name == "postgresql":  # explicit ids: move the sequences past them
            for table in ("family", "person"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                                  f" (SELECT max(id) FROM {table}))"))
    return asks


def fresh_postgres() -> str:
    name = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def drop_postgres(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
