"""Registration night against the backend's HTTP API: SQLite and PostgreSQL side by side.

N families, each already identified (a family token), send at the same moment one request for
semaines 2 à 4 of the same group (20 places a week) with `join_waitlist`. Reports latency
percentiles, requests per second and checks the outcome is exact (20 held, the rest waitlisted
1..n). Both databases are measured in the same run, same machine, same client.

    .venv/bin/python bench/registration_night.py [--families 400] [--concurrency 16 64]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
from sqlalchemy import create_engine, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from stack import Ports, Stack, running  # noqa: E402

from backend.adapters.demo_clock import OffsetClock  # noqa: E402
from backend.db.engine import make_engine, make_session_factory, transaction  # noqa: E402
from backend.db.models import AccountStatus, Family, Group, Person, Site  # noqa: E402
from backend.db.models import Session as ActivitySession  # noqa: E402
from backend.demo import migrate, seed_demo  # noqa: E402
from backend.services.auth import issue_family_token  # noqa: E402

PG_ADMIN = os.environ.get("BENCH_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SERVICE = {"Authorization": "Bearer dev-service-secret"}


@dataclass
class Result:
    database: str
    concurrency: int
    latencies_ms: list[float]
    seconds: float
    held: int
    waitlisted: int
    positions_ok: bool

    def pct(self, p: float) -> float:
        data = sorted(self.latencies_ms)
        return data[min(len(data) - 1, int(round(p / 100 * (len(data) - 1))))]

    @property
    def rps(self) -> float:
        return len(self.latencies_ms) / self.seconds


def prepare(url: str, families: int) -> tuple[list[str], list[int], list[int]]:
    """Migrate, seed the demo, add bench families; returns their tokens and session ids."""
    migrate(url)
    factory = make_session_factory(make_engine(url))
    clock = OffsetClock.demo()
    with transaction(factory) as db:
        seed_demo(db, clock=clock)
    with transaction(factory) as db:
        site = db.scalar(select(Site).where(Site.name == "Parc de la Rivière"))
        group = db.scalar(
            select(Group).where(Group.site_id == site.id, Group.label == "7-8 ans")  # type: ignore[union-attr]
        )
        sessions = list(
            db.scalars(
                select(ActivitySession.id)
                .where(ActivitySession.group_id == group.id)  # type: ignore[union-attr]
                .order_by(ActivitySession.number)
            )
        )
        tokens: list[str] = []
        children: list[int] = []
        for n in range(families):
            family = Family(
                client_number=f"7{n:05d}", phone=f"+1819555{n:04d}", email=None, address="",
                resident=True, status=AccountStatus.APPROVED, created_at=clock.now(),
            )
            child = Person(first_name="Enfant", last_name=f"Banc{n}", birth_date=date(2019, 6, 1),
                           is_adult=False)
            family.members.append(child)
            db.add(family)
            db.flush()
            children.append(child.id)
            tokens.append(issue_family_token(db, family.id, via="bench", clock=clock, minutes=240))
    return tokens, children, sessions


async def storm(base: str, tokens: list[str], children: list[int], session_ids: list[int],
                concurrency: int) -> tuple[list[float], float]:
    limits = httpx.Limits(max_connections=concurrency)
    latencies: list[float] = []
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:

        async def one(i: int, token: str) -> None:
            body = {"child_id": children[i], "session_ids": session_ids,
                    "options": [], "tshirt_size": "P", "join_waitlist": True}
            async with gate:
                t0 = time.perf_counter()
                r = await client.post("/api/cart/lines", json=body,
                                      headers={**SERVICE, "X-Family-Token": token})
                latencies.append((time.perf_counter() - t0) * 1000)
                if r.status_code != 200:
                    raise RuntimeError(f"{r.status_code} {r.text}")

        t0 = time.perf_counter()
        await asyncio.gather(*(one(i, t) for i, t in enumerate(tokens)))
        return latencies, time.perf_counter() - t0


def outcome(url: str, hot_session: int) -> tuple[int, int, bool]:
    engine = create_engine(url)
    with engine.connect() as conn:
        held = conn.execute(text("SELECT count(*) FROM line WHERE session_id=:s AND status='held'"),
                            {"s": hot_session}).scalar_one()
        waiting = [row[0] for row in conn.execute(text(
            "SELECT id FROM line WHERE session_id=:s AND status='waitlisted'"
            " ORDER BY waitlisted_at, id"), {"s": hot_session})]
    engine.dispose()
    return int(held), len(waiting), len(set(waiting)) == len(waiting)


def run_one(label: str, url: str, families: int, concurrency: int) -> Result:
    tokens, children, sessions = prepare(url, families)
    week_sessions = sessions[1:4]  # semaines 2 à 4: the first is the hot one everybody wants
    stack = Stack(ports=Ports.free(), env={"DEMO_MODE": "1", "DATABASE_URL": url,
                                          "DB_WORKERS": "8", "LOG_LEVEL": "WARNING"},
                  log_dir=ROOT / "var" / "bench-log", with_rasa=False)
    with running(stack, timeout=60):
        latencies, seconds = asyncio.run(
            storm(stack.backend_url, tokens, children, week_sessions, concurrency))
    held, waitlisted, unique = outcome(url, week_sessions[0])
    return Result(label, concurrency, latencies, seconds, held, waitlisted,
                  unique and held == 20 and waitlisted == families - 20)


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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--families", type=int, default=400)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"],
                        choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    work = ROOT / "var" / "bench"
    work.mkdir(parents=True, exist_ok=True)
    results: list[Result] = []
    for concurrency in args.concurrency:
        if "sqlite" in args.databases:
            sqlite_file = work / f"night-{uuid.uuid4().hex[:6]}.db"
            results.append(
                run_one("SQLite", f"sqlite:///{sqlite_file}", args.families, concurrency))
            sqlite_file.unlink(missing_ok=True)
        if "postgresql" in args.databases:
            pg = fresh_postgres()
            try:
                results.append(run_one("PostgreSQL", pg, args.families, concurrency))
            finally:
                drop_postgres(pg)

    print(f"\n{args.families} families, each asking for semaines 2 à 4 of one group "
          "(semaine 2 is the hot one: 20 places), join_waitlist\n")
    print("| database | clients | p50 ms | p95 ms | p99 ms | max ms | requests/s | exact outcome |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r.database} | {r.concurrency} | {r.pct(50):.0f} | {r.pct(95):.0f} "
              f"| {r.pct(99):.0f} | {max(r.latencies_ms):.0f} | {r.rps:.0f} | "
              f"{'yes' if r.positions_ok else 'NO'} ({r.held} held, {r.waitlisted} waitlisted) |")
    for c in args.concurrency:
        pair = {r.database: r for r in results if r.concurrency == c}
        if len(pair) == 2:
            ratio = pair["PostgreSQL"].rps / pair["SQLite"].rps
            print(f"\n{c} clients: PostgreSQL / SQLite throughput ratio {ratio:.2f}; "
                  f"p95 {pair['PostgreSQL'].pct(95):.0f} ms vs {pair['SQLite'].pct(95):.0f} ms")
    return 0 if all(r.positions_ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
