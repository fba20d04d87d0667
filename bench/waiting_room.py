"""The waiting room with 10,000 families in line against 1,000: joining, asking one's position
and one admission step, SQLite and PostgreSQL, side by side in one run.

For each database two fresh copies are made, one with 1,000 and one with 10,000 families already
waiting in a drawn line (inserted in bulk). Then, alternating between the two copies call after
call so that the machine's load falls on both alike, the services are timed one call per
transaction, as a backend worker runs them: a new family joins the back of the line, the family
at the back asks its position, and one admission step lets a minute's worth (10) in. Medians
per operation, and the ratio 10,000 / 1,000 (the target is at most 1.5: no operation reads the
whole line; a position is `seq - admitted_through`).

    .venv/bin/python bench/waiting_room.py [--rounds 5] [--per-round 40] [--sqlite-only]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "integration" / "api")]

from api_harness import START, _pg_admin_url  # noqa: E402
from sqlalchemy import create_engine, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from backend.adapters.clock import ManualClock  # noqa: E402
from backend.db.engine import make_engine, make_session_factory, run_transaction  # noqa: E402
from backend.db.models import AccountStatus, Family, Season  # noqa: E402
from backend.db.waiting_room import RushEntry  # noqa: E402
from backend.demo import migrate, seed_demo  # noqa: E402
from backend.domain.waiting_room import EntryStatus  # noqa: E402
from backend.services import rush_admission, rush_staff, waiting_room  # noqa: E402
from backend.services.staff import INTERNAL  # noqa: E402
from backend.settings import Settings  # noqa: E402

SIZES = (1_000, 10_000)
OPS = ("join", "position", "admission step")


class Copy:
    """One database with `size` families waiting."""

    def __init__(self, url: str, size: int) -> None:
        self.url, self.size = url, size
        self.clock = ManualClock(START)
        self.settings = Settings(database_url=url, rush_idle_grace_minutes=10_000)
        migrate(url)
        self.engine = make_engine(url)
        self.factory: sessionmaker[Session] = make_session_factory(self.engine)
        self.run(lambda db: seed_demo(db, clock=self.clock))
        season_id = self.run(lambda db: db.scalar(select(Season.id)))
        self.rush_id = int(self.run(lambda db: rush_staff.open_rush(
            db, season_id, opens_at=self.clock.now(), rate_per_minute=10, cap=100_000,
            clock=self.clock, actor=INTERNAL))["id"])
        self.spare = self._families(size + 5_000, prefix="8")
        queued, self.spare = self.spare[:size], self.spare[size:]
        now = self.clock.now()
        self.run(lambda db: db.execute(insert(RushEntry), [
            {"rush_id": self.rush_id, "family_id": f, "seq": i + 1,
             "status": EntryStatus.WAITING, "joined_at": now}
            for i, f in enumerate(queued)]))
        self.run(lambda db: db.execute(
            text("UPDATE rush SET last_seq = :n, drawn_at = :now WHERE id = :id"),
            {"n": size, "now": now, "id": self.rush_id}))
        self.back = queued[-1]
        if self.engine.dialect.name == "postgresql":
            with self.engine.connect() as conn:
                conn.execute(text("ANALYZE"))
                conn.commit()

    def run(self, fn: Callable[[Session], Any]) -> Any:
        return run_transaction(self.factory, fn)

    def _families(self, n: int, prefix: str) -> list[int]:
        now = self.clock.now()
        rows = [{"client_number": f"{prefix}{i:07d}", "phone": "+14185550000",
                 "phone_can_text": False, "address": "", "resident": True,
                 "status": AccountStatus.APPROVED, "created_at": now} for i in range(n)]
        self.run(lambda db: db.execute(insert(Family), rows))
        return [int(f) for f in self.run(lambda db: db.scalars(
            select(Family.id).where(Family.client_number.like(f"{prefix}%"))
            .order_by(Family.id)).all())]

    def join(self) -> None:
        family = self.spare.pop()
        self.run(lambda db: waiting_room.join(db, family, season_id=None, clock=self.clock))

    def position(self) -> None:
        view = self.run(lambda db: waiting_room.place(
            db, self.back, season_id=None, clock=self.clock))
        assert view["position"] is not None

    def step(self) -> None:
        self.clock.advance(timedelta(minutes=1))
        done = self.run(lambda db: rush_admission.step(
            db, self.rush_id, clock=self.clock, settings=self.settings))
        assert done["admitted"] == 10, done

    def close(self) -> None:
        self.engine.dispose()


def _timed(fn: Callable[[], None]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def measure(urls: dict[int, str], rounds: int, per_round: int) -> dict[str, dict[int, float]]:
    """Medians in ms. The two copies are called in turn, call after call (which one goes first
    alternates), so that a busy machine slows both alike and the ratio stays meaningful."""
    copies = {size: Copy(url, size) for size, url in urls.items()}
    samples: dict[str, dict[int, list[float]]] = {op: {s: [] for s in SIZES} for op in OPS}
    try:
        for _ in range(rounds):
            for op, calls in (("join", per_round), ("position", per_round),
                              ("admission step", max(1, per_round // 4))):
                for i in range(calls):
                    order = SIZES if i % 2 == 0 else SIZES[::-1]
                    for size in order:
                        c = copies[size]
                        fn = {"join": c.join, "position": c.position,
                              "admission step": c.step}[op]
                        samples[op][size].append(_timed(fn))
    finally:
        for c in copies.values():
            c.close()
    return {op: {s: statistics.median(v) for s, v in by.items()} for op, by in samples.items()}


def _pg_database() -> str:
    name = f"bench_wr_{uuid.uuid4().hex[:8]}"
    admin = create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(_pg_admin_url()).set(database=name).render_as_string(hide_password=False)


def _drop_pg(url: str) -> None:
    admin = create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def report(name: str, result: dict[str, dict[int, float]]) -> bool:
    print(f"\n{name}: median ms per call (one transaction each)")
    print(f"  {'operation':<16}{'1,000 queued':>14}{'10,000 queued':>15}{'ratio':>8}")
    within = True
    for op in OPS:
        small, large = result[op][SIZES[0]], result[op][SIZES[1]]
        ratio = large / small
        within &= ratio <= 1.5
        print(f"  {op:<16}{small:>14.2f}{large:>15.2f}{ratio:>8.2f}")
    return within


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--per-round", type=int, default=40)
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    work = ROOT / "var" / "bench"
    work.mkdir(parents=True, exist_ok=True)
    files = {s: work / f"waiting-{s}-{uuid.uuid4().hex[:6]}.db" for s in SIZES}
    ok = True
    try:
        result = measure({s: f"sqlite:///{f}" for s, f in files.items()},
                         args.rounds, args.per_round)
        ok &= report("SQLite", result)
    finally:
        for f in files.values():
            for suffix in ("", "-wal", "-shm"):
                Path(f"{f}{suffix}").unlink(missing_ok=True)
    if not args.sqlite_only:
        urls = {s: _pg_database() for s in SIZES}
        try:
            ok &= report("PostgreSQL", measure(urls, args.rounds, args.per_round))
        finally:
            for url in urls.values():
                _drop_pg(url)
    print("\nwithin the 1.5 target" if ok else "\nABOVE the 1.5 target")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
