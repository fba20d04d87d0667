"""A rehearsal of registration night on one machine: thousands of families arrive around the
19 h opening, wait in the waiting room, are let in at the staff's rate, register their children
through the real cart and checkout API with a parent's think times, while the coordinator
raises the rate once in the middle. Then the database is read: admissions per minute before and
after the change, the longest wait, places sold per minute, HTTP errors, and the integrity
checks (nobody admitted twice or lost, no overbooking, waitlists ranked 1..n, each registration
once). Exit status 1 when a check fails or the backend answered a 5xx.

The backend runs its demo clock `--speed` times faster than real time (DEMO_CLOCK_SPEED), so an
hour of night takes twelve minutes at 5; every think time and poll is in night time. Faster
is only faithful while a request costs a few seconds of night (docs/BENCHMARKS.md, section 5).

    .venv/bin/python bench/rush_rehearsal.py [--families 3000] [--database both] [--speed 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts"), str(Path(__file__).resolve().parent)]

from registration_night import drop_postgres, fresh_postgres  # noqa: E402
from rehearsal_checks import Checks, Figures, figures, integrity  # noqa: E402
from rehearsal_families import (  # noqa: E402
    ABANDON_SHARE,
    Api,
    Family,
    Journey,
    Night,
    Tally,
    arrivals,
    staff_changes_rate,
)
from rehearsal_seed import Seeded, prepare  # noqa: E402
from stack import Ports, Stack, running  # noqa: E402

from backend.adapters.clock import from_local, to_local  # noqa: E402
from backend.adapters.demo_clock import OffsetClock  # noqa: E402
from backend.db.engine import make_engine, make_session_factory  # noqa: E402

OPENING_LOCAL = datetime(2027, 4, 20, 19, 0)
START_LOCAL = OPENING_LOCAL - timedelta(minutes=6)
POLL_CONNECTIONS, ACT_CONNECTIONS = 24, 64


@dataclass
class Plan:
    families: int
    speed: float
    rate: float
    new_rate: float
    cap: int
    max_night_minutes: float
    seed: int


@dataclass
class Run:
    database: str
    figures: Figures
    checks: Checks
    tally: Tally
    wall_seconds: float
    rush_id: int
    journeys: list[Journey]

    @property
    def polls(self) -> int:
        return sum(j.polls for j in self.journeys)

    @property
    def poll_interval(self) -> float:
        """Night seconds between two polls of a waiting family, as it came out."""
        return sum(j.waited_seconds for j in self.journeys) / max(1, self.polls)


async def progress(clock: Night, journeys: list[Journey], tally: Tally) -> None:
    """A line every five minutes of night, so that a long rehearsal shows it is moving."""
    while True:
        await clock.sleep(300)
        counts = Counter(j.outcome for j in journeys)
        print(f"  {to_local(clock.now()):%H:%M}  " + ", ".join(
            f"{k} {v}" for k, v in sorted(counts.items())) + f"; {sum(tally.statuses.values())} "
            f"requests, {tally.server_errors} 5xx", flush=True)


async def night(base: str, seeded: Seeded, plan: Plan) -> tuple[int, list[Journey], Tally]:
    rng = random.Random(plan.seed)
    tally = Tally()
    pools = [httpx.AsyncClient(base_url=base, timeout=300,
                               limits=httpx.Limits(max_connections=n, max_keepalive_connections=n))
             for n in (POLL_CONNECTIONS, ACT_CONNECTIONS, 2)]
    polls, acts, client = pools
    try:
        api = Api(polls, acts, tally)
        r = await client.post("/api/dev/clock", json={"now": START_LOCAL.isoformat()})
        r.raise_for_status()
        clock = Night(plan.speed, datetime.fromisoformat(r.json()["utc"]))
        staff = {"Authorization": f"Bearer {seeded.staff_token}"}
        r = await client.post("/api/staff/rushes", headers=staff, json={
            "season_id": seeded.season_id, "opens_at": OPENING_LOCAL.isoformat(),
            "rate_per_minute": plan.rate, "cap": plan.cap})
        if r.status_code != 201:
            raise RuntimeError(f"opening the rush: {r.status_code} {r.text}")
        rush_id = int(r.json()["id"])
        opening = from_local(OPENING_LOCAL)
        journeys = [Journey(h, at, rng.random() < ABANDON_SHARE) for h, at in
                    zip(seeded.households, arrivals(plan.families, opening, rng), strict=True)]
        # in the middle: about a third of the crowd let in at the first rate
        change_at = opening + timedelta(minutes=max(5.0, plan.families * 0.35 / plan.rate))
        staff_task = asyncio.create_task(staff_changes_rate(
            client, tally, clock, rush_id, seeded.staff_token, change_at, plan.new_rate))
        watch = asyncio.create_task(progress(clock, journeys, tally))
        tasks = [asyncio.create_task(Family(j, api, clock, random.Random(rng.random())).run())
                 for j in journeys]
        deadline = opening + timedelta(minutes=plan.max_night_minutes)
        _done, pending = await asyncio.wait(
            tasks, timeout=(deadline - clock.now()).total_seconds() / plan.speed)
        watch.cancel()
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for j in journeys:
            if j.outcome in ("not_arrived", "waiting", "registering"):
                j.outcome = "stopped"  # the rehearsal ended first
        if not staff_task.done():  # the crowd went through before the planned change
            staff_task.cancel()
        await asyncio.gather(staff_task, return_exceptions=True)
        for task in tasks:
            if not task.cancelled() and task.exception() is not None:
                tally.failures.append(f"family task: {task.exception()!r}")
    finally:
        for pool in pools:
            await pool.aclose()
    return rush_id, journeys, tally


def rehearse(label: str, url: str, plan: Plan) -> Run:
    seeded = prepare(url, plan.families, clock=OffsetClock.demo(),
                     rng=random.Random(plan.seed))
    # The admission step keeps its production pace (every 2 s of real time: what the workers
    # carry), which is 2 s times the speed of night time between steps.
    env = {"DEMO_MODE": "1", "DATABASE_URL": url, "DEMO_CLOCK_SPEED": str(plan.speed),
           # checked-out places stay held until the rehearsal is read (nobody pays here)
           "PAY_LINK_MINUTES": str(int(plan.max_night_minutes) + 120),
           "DB_WORKERS": "8", "LOG_LEVEL": "WARNING"}
    stack = Stack(ports=Ports.free(), env=env, log_dir=ROOT / "var" / "bench-log",
                  with_rasa=False)
    started = time.perf_counter()
    with running(stack, timeout=90):
        rush_id, journeys, tally = asyncio.run(night(stack.backend_url, seeded, plan))
    wall = time.perf_counter() - started
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as db:
            found, checks = figures(db, rush_id, journeys), integrity(db, rush_id, journeys)
    finally:
        engine.dispose()
    if tally.failures:
        checks.check("no HTTP error nor failed request", tally.failures[:20])
    return Run(label, found, checks, tally, wall, rush_id, journeys)


def report(plan: Plan, runs: list[Run]) -> None:
    print(f"\n{plan.families} families, demo clock x{plan.speed:g}, rate {plan.rate:g} then "
          f"{plan.new_rate:g} a minute, cap {plan.cap}\n")
    print("| database | admitted/min before | after | longest wait | median wait "
          "| places sold | sold/min (peak) | 5xx | refusals (409/422) | checks |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in runs:
        f = r.figures
        refusals = ", ".join(f"{k} ×{n}" for k, n in sorted(r.tally.refusals.items())) or "none"
        print(f"| {r.database} | {f.admitted_per_minute_before:.1f} (rate {f.rate_before:g}) "
              f"| {f.admitted_per_minute_after:.1f} (rate {f.rate_after:g}) "
              f"| {f.longest_wait_minutes:.1f} min | {f.median_wait_minutes:.1f} min "
              f"| {f.places_sold} | {f.sold_per_minute:.1f} ({f.sold_peak_minute}) "
              f"| {r.tally.server_errors} | {refusals} "
              f"| {'all pass' if r.checks.ok else 'FAILED'} |")
    for r in runs:
        total = sum(r.tally.statuses.values())
        print(f"\n{r.database}: {r.figures.night_minutes:.0f} min of night in "
              f"{r.wall_seconds:.0f} s, {total} requests ({total / r.wall_seconds:.0f}/s, "
              f"{r.polls} place polls, one per {r.poll_interval:.0f} s of night and "
              f"family); joining, cart and checkout requests p50 {r.tally.act_pct(50):.0f} ms, "
              f"p95 {r.tally.act_pct(95):.0f} ms (x{plan.speed:g}: p95 "
              f"{r.tally.act_pct(95) * plan.speed / 1000:.0f} s of night)\n  families: "
              + json.dumps(dict(r.figures.outcomes), ensure_ascii=False))
        for name in r.checks.passed:
            print(f"  ok    {name}")
        for name, problems in r.checks.failed.items():
            print(f"  FAIL  {name}")
            for p in problems[:10]:
                print(f"          {p}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--families", type=int, default=3000)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--speed", type=float, default=5.0)
    parser.add_argument("--rate", type=float, default=40.0, help="families let in per minute")
    parser.add_argument("--new-rate", type=float, default=80.0, help="the staff's change")
    parser.add_argument("--cap", type=int, default=400)
    parser.add_argument("--max-night-minutes", type=float, default=150.0)
    parser.add_argument("--seed", type=int, default=2027)
    args = parser.parse_args(argv)
    plan = Plan(args.families, args.speed, args.rate, args.new_rate, args.cap,
                args.max_night_minutes, args.seed)
    work = ROOT / "var" / "bench"
    work.mkdir(parents=True, exist_ok=True)
    runs: list[Run] = []
    if args.database in ("sqlite", "both"):
        db_file = work / f"rehearsal-{uuid.uuid4().hex[:6]}.db"
        try:
            runs.append(rehearse("SQLite", f"sqlite:///{db_file}", plan))
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db_file}{suffix}").unlink(missing_ok=True)
    if args.database in ("postgresql", "both"):
        pg = fresh_postgres()
        try:
            runs.append(rehearse("PostgreSQL", pg, plan))
        finally:
            drop_postgres(pg)
    report(plan, runs)
    print("\nevery check passed" if all(r.checks.ok for r in runs) else "\nA CHECK FAILED")
    return 0 if all(r.checks.ok and r.tally.server_errors == 0 for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
