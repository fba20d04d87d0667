"""SQL statements and time per request on the hot routes, SQLite and PostgreSQL.

The backend runs in this process (the test harness: demo city at 2027-04-20 19:00, a set clock),
each route is called once with Julie's token (client 100001) and the statements the engine sent
for it are counted (tests/sql_counter.py). Counts do not depend on the machine's load; the
milliseconds do (one call each, warm process) and are only a hint.

    .venv/bin/python bench/sql_counts.py [--verbose ROUTE]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "integration" / "api")]

from api_harness import (  # noqa: E402
    START,
    _pg_admin_url,
    seed_demo_data,
    start_backend,
    stop_backend,
)
from route_walk import walk  # noqa: E402
from sql_counter import StatementLog  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from backend.adapters.clock import ManualClock  # noqa: E402


def _fresh_pg() -> str:
    name = f"counts_{uuid.uuid4().hex[:8]}"
    admin = create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(_pg_admin_url()).set(database=name).render_as_string(hide_password=False)


def _drop_pg(url: str) -> None:
    name = make_url(url).database
    admin = create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


async def measure(url: str) -> list[tuple[str, StatementLog, float, int]]:
    clock = ManualClock(START)
    seed_demo_data(url, clock)
    backend = await start_backend(url, clock=clock)
    try:
        return await walk(backend)
    finally:
        await stop_backend(backend)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--verbose", default="", help="print the statements of routes matching")
    args = parser.parse_args()
    work = ROOT / "var" / "bench"
    work.mkdir(parents=True, exist_ok=True)
    sqlite_file = work / f"counts-{uuid.uuid4().hex[:6]}.db"
    results: dict[str, list[tuple[str, StatementLog, float, int]]] = {}
    try:
        results["SQLite"] = asyncio.run(measure(f"sqlite:///{sqlite_file}"))
    finally:
        sqlite_file.unlink(missing_ok=True)
    pg = _fresh_pg()
    try:
        results["PostgreSQL"] = asyncio.run(measure(pg))
    finally:
        _drop_pg(pg)
    print("| route | status | SQLite statements | SQLite ms "
          "| PostgreSQL statements | PostgreSQL ms |")
    print("|---|---|---|---|---|---|")
    for (label, slog, sms, status), (_, plog, pms, _s) in zip(
        results["SQLite"], results["PostgreSQL"], strict=True
    ):
        print(f"| {label} | {status} | {slog.count} | {sms:.1f} | {plog.count} | {pms:.1f} |")
    if args.verbose:
        for db, rows in results.items():
            for label, log, _ms, _st in rows:
                if args.verbose in label:
                    print(f"\n--- {db}: {label}\n{log.summary()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
