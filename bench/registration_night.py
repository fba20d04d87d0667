"""Registration night: our reservations against the same SQL without our layers, side by side.

For each database (SQLite, PostgreSQL) and each workload, in one run, on the same machine with
the same client (httpx, 16 concurrent requests, time-bounded: as many requests as fit in
--seconds):
- ours: the real backend (`python -m backend`), `POST /api/cart/lines` for one week;
- minimal: bench/minimal_reservation.py, a bare Sanic app sending the same statements;
  both started at once, each on its own copy of the city, driven in alternating slices of
  --slice seconds (5) until each had --seconds, so that the machine's load falls on both;
then pgbench (PostgreSQL) on bench/pg_equivalent.sql (those statements) and bench/pg_floor.sql
(one conditional UPDATE and one INSERT), `pgbench -n -c16 -j2 -T<seconds>`.

Workloads: `one week` (everyone asks for semaine 2 of the 7-8 ans at Parc de la Rivière, 20
places) and `spread` (families spread over every week of every group). Every request comes from
a family never seen before, with `join_waitlist`. After each HTTP run the database is read:
no week holds more than its capacity, each week holds exactly min(free places, requests), every
other request is waitlisted, and the rank each answer gave is the line's rank in the database.

    .venv/bin/python bench/registration_night.py [--seconds 20] [--slice 5] [--quick]

The last line is `PostgreSQL reservations/s over minimal handler: X.XX` (the lower of the two
workloads).
"""

from __future__ import annotations

import argparse
import sys
import uuid
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts"), str(ROOT / "bench")]

from night_checks import Run, check  # noqa: E402
from night_pgbench import pgbench_rates  # noqa: E402
from night_seed import (  # noqa: E402
    add_families,
    drop_postgres,
    every_session,
    fresh_postgres,
    hot_session,
    seed,
    targets,
)
from night_servers import minimal_server, our_server  # noqa: E402
from night_storm import Answer, storm  # noqa: E402
from sqlalchemy import Engine  # noqa: E402

WORKLOADS = ("one week", "spread")


def plan_for(workload: str, engine: Engine, families: int) -> list[int]:
    if workload == "one week":
        return [hot_session(engine)] * families
    weeks = every_session(engine)
    return [weeks[i % len(weeks)] for i in range(families)]


SERVERS = {"ours": (our_server, "/api/cart/lines"), "minimal": (minimal_server, "/reserve")}


def pair_run(database: str, workload: str, args: argparse.Namespace) -> list[Run]:
    """Ours and the minimal handler, each on a fresh copy of the city, both started, driven in
    alternating slices of --slice seconds until each had --seconds: a change in the machine's
    load falls on both alike."""
    work = ROOT / "var" / "bench"
    work.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    urls: dict[str, str] = {}
    for server in SERVERS:
        if database == "SQLite":
            files.append(work / f"night-{uuid.uuid4().hex[:6]}.db")
            urls[server] = f"sqlite:///{files[-1]}"
        else:
            urls[server] = fresh_postgres()
    try:
        engines, asks, before = {}, {}, {}
        for server, url in urls.items():
            engines[server] = seed(url)
            plan = plan_for(workload, engines[server], args.families)
            asks[server] = add_families(engines[server], plan)
            before[server] = targets(engines[server], sorted(set(plan)))
        answers: dict[str, list[Answer]] = {server: [] for server in SERVERS}
        spent = dict.fromkeys(SERVERS, 0.0)
        with ExitStack() as stack:
            bases = {server: stack.enter_context(SERVERS[server][0](urls[server]))
                     for server in SERVERS}
            turn = 0
            while min(spent.values()) < args.seconds:
                order = list(SERVERS) if turn % 2 == 0 else list(reversed(SERVERS))
                for server in order:
                    left = min(args.slice, args.seconds - spent[server])
                    if left <= 0:
                        continue
                    done = len(answers[server])
                    got, seconds = storm(bases[server], SERVERS[server][1],
                                         asks[server][done:], clients=args.clients, seconds=left)
                    answers[server] += got
                    spent[server] += seconds
                turn += 1
        runs = [check(engines[server], database, workload, server, asks[server],
                      answers[server], spent[server], before[server]) for server in SERVERS]
        for engine in engines.values():
            engine.dispose()
        return runs
    finally:
        for file in files:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{file}{suffix}").unlink(missing_ok=True)
        if database == "PostgreSQL":
            for url in urls.values():
                drop_postgres(url)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--slice", type=float, default=5,
                        help="seconds each server is driven before the other's turn")
    parser.add_argument("--families", type=int, default=0,
                        help="bench families per run (default: enough for --seconds)")
    parser.add_argument("--quick", action="store_true", help="5 s runs, for development")
    parser.add_argument("--databases", nargs="+", default=["SQLite", "PostgreSQL"],
                        choices=["SQLite", "PostgreSQL"])
    parser.add_argument("--workloads", nargs="+", default=list(WORKLOADS), choices=WORKLOADS)
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.slice = min(args.seconds, 5), min(args.slice, 2.5)
    if not args.families:
        args.families = int(args.seconds * 400) + 500
    runs: list[Run] = []
    for database in args.databases:
        for workload in args.workloads:
            for run in pair_run(database, workload, args):
                runs.append(run)
                print(run.row(), flush=True)
    rates: dict[tuple[str, str], float] = {}
    if "PostgreSQL" in args.databases:
        for workload in args.workloads:
            for script in ("pg_equivalent", "pg_floor"):
                rates[(workload, script)] = pgbench_rates(
                    ROOT, workload, script, clients=args.clients, seconds=args.seconds)
    print(f"\n{args.clients} clients, {args.seconds:.0f} s per run, one week per request, "
          "join_waitlist, a new family each request\n")
    print("| database | workload | server | requests | requests/s | p50 ms | p95 ms "
          "| exact outcome |")
    print("|---|---|---|---|---|---|---|---|")
    for run in runs:
        print(run.row())
    ratios: dict[str, float] = {}
    print()
    for database in args.databases:
        for workload in args.workloads:
            pair = {r.server: r for r in runs if r.database == database and r.workload == workload}
            ratio = pair["ours"].rps / pair["minimal"].rps
            ratios[f"{database}/{workload}"] = ratio
            line = (f"{database}, {workload}: ours {pair['ours'].rps:.0f}/s, minimal "
                    f"{pair['minimal'].rps:.0f}/s, ours/minimal {ratio:.2f}")
            if database == "PostgreSQL":
                eq, floor = rates[(workload, "pg_equivalent")], rates[(workload, "pg_floor")]
                line += (f"; pgbench equivalent {eq:.0f} tps (ours/equivalent "
                         f"{pair['ours'].rps / eq:.3f}), floor {floor:.0f} tps (ours/floor "
                         f"{pair['ours'].rps / floor:.3f})")
            print(line)
    exact = all(r.exact for r in runs)
    print(f"\nEvery outcome exact: {'yes' if exact else 'NO'}")
    pg = [v for k, v in ratios.items() if k.startswith("PostgreSQL/")]
    if pg:
        print(f"PostgreSQL reservations/s over minimal handler: {min(pg):.2f}")
    return 0 if exact else 1


if __name__ == "__main__":
    sys.exit(main())
