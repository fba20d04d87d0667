"""The backend killed (SIGKILL) in the middle of registration night loses nothing.

The backend runs as a real process (`python -m backend`, as in production) on a file SQLite
database, then on PostgreSQL. 600 families, each with its own family token, ask at once (500
in flight) for a place in one of four 6-place camp weeks (every fourth family for two weeks
in the same request), joining the waitlist when full, a third with the service de garde.
Once 200 requests have been answered the process is SIGKILLed; the requests still in flight
get no answer. The backend is restarted on the same database, every family left without an
answer asks again (as a parent would), and then, on the database itself:

- every request answered 2xx has its lines, exactly once: each line id it was given exists,
  for that child and that week, and the child has no other active line in the week; an
  answer lost with the process (committed, not told) comes back on retry as
  `already_registered`;
- no request is half-written: on retry, both weeks of a two-week request are already
  registered or neither is; a held line has its deadline, a waiting one its instant, an
  option holds a place exactly when its line does;
- every pool's `taken` equals the lines and options holding it, and none exceeds capacity;
- the waiting lines of every week rank exactly 1..n.

The figures are printed (`-s`).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from backend.adapters.clock import ManualClock
from backend.db.base import Base
from backend.db.engine import make_engine, make_session_factory
from backend.db.models import CapacityPool, Line, LineOption, LineStatus, SessionOption
from backend.db.models import Session as ActivitySession
from backend.domain.states import ACTIVE
from backend.services import auth
from tests.integration.api.api_harness import (  # noqa: F401 - database_url is a fixture
    SERVICE,
    START,
    database_url,
    free_port,
)
from tests.integration.core.helpers import Harness, make_harness

ROOT = Path(__file__).resolve().parents[3]
FAMILIES = 600
IN_FLIGHT = 500
KILL_AFTER = 200  # answers received before the SIGKILL
WEEK_PLACES = 6
WEEKS = (2, 3, 4, 5)

pytestmark = pytest.mark.slow


@dataclass
class Family:
    family_id: int
    child_id: int
    token: str
    session_ids: list[int]  # one week, or two (both or neither may be half-written)
    options: list[str]


@dataclass
class Answers:
    ok: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # family -> results
    statuses: Counter[int] = field(default_factory=Counter)
    unanswered: list[int] = field(default_factory=list)
    in_flight_at_kill: int = 0  # requests sent and not answered when the process died


def _seed(url: str) -> tuple[Harness, list[Family]]:
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    h = make_harness(make_session_factory(engine), ManualClock(START))
    people = h.make_families(FAMILIES)
    sessions = [h.camp_session("Parc des Érables", "7-8 ans", w) for w in WEEKS]

    def prepare(db: Session) -> list[Family]:
        week_pools = select(ActivitySession.pool_id).where(ActivitySession.id.in_(sessions))
        db.execute(
            update(CapacityPool)
            .where(CapacityPool.id.in_(week_pools))
            .values(capacity=WEEK_PLACES)
        )
        return [
            Family(
                fid, cid,
                auth.issue_family_token(db, fid, via="code", clock=h.clock, minutes=600),
                # Every fourth family asks for two weeks in the same request.
                [sessions[i % len(sessions)], *([sessions[(i + 1) % len(sessions)]]
                                                 if i % 4 == 1 else [])],
                ["garde"] if i % 3 == 0 else [],
            )
            for i, (fid, cid) in enumerate(people)
        ]

    return h, h.run(prepare)


class Process:
    """`python -m backend` on a free port, its output in a log file."""

    def __init__(self, url: str, log: Path) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "DEMO_MODE": "1",  # the clock starts on registration night
            "BACKEND_HOST": "127.0.0.1",
            "BACKEND_PORT": str(self.port),
            "PUBLIC_BASE_URL": self.base_url,
            "SERVICE_SECRET": SERVICE,
            "PYTHONUNBUFFERED": "1",
        }
        self.log = open(log, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "backend"], cwd=ROOT, env=env,
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    async def ready(self) -> None:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=2.0) as client:
            for _ in range(600):
                if self.proc.poll() is not None:
                    raise AssertionError(f"backend exited with {self.proc.returncode}")
                try:
                    if (await client.get("/health")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)  # polling for readiness, decides no result
        raise AssertionError("backend not ready after 60 s")

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


async def _fire(
    base_url: str, families: list[Family], which: list[int], answers: Answers,
    kill: Process | None = None,
) -> None:
    """POST /api/cart/lines for each family of `which`, IN_FLIGHT at a time; with `kill`,
    SIGKILL that process once KILL_AFTER answers have arrived."""
    gate = asyncio.Semaphore(IN_FLIGHT)
    answered = inside = 0
    limits = httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=IN_FLIGHT)

    async with httpx.AsyncClient(base_url=base_url, timeout=60.0, limits=limits) as client:

        async def one(i: int) -> None:
            nonlocal answered, inside
            fam = families[i]
            async with gate:
                inside += 1
                try:
                    response = await client.post(
                        "/api/cart/lines",
                        headers={"Authorization": f"Bearer {SERVICE}",
                                 "X-Family-Token": fam.token},
                        json={"child_id": fam.child_id, "session_ids": fam.session_ids,
                              "options": fam.options, "tshirt_size": "M",
                              "join_waitlist": True},
                    )
                except httpx.TransportError:
                    answers.unanswered.append(i)
                    return
                finally:
                    inside -= 1
            answers.statuses[response.status_code] += 1
            if response.is_success:
                answers.ok[i] = response.json()["results"]
            answered += 1
            if kill is not None and answered == KILL_AFTER:
                answers.in_flight_at_kill = inside
                kill.kill()

        await asyncio.gather(*(one(i) for i in which))


def _check_database(h: Harness, families: list[Family], answers: Answers) -> None:
    def lines(db: Session) -> dict[int, Line]:
        return {ln.id: ln for ln in db.scalars(select(Line)).all()}

    by_id = h.run(lambda db: {
        i: (ln.person_id, ln.session_id, ln.status) for i, ln in lines(db).items()
    })
    for i, results in answers.ok.items():
        fam = families[i]
        assert sorted(r["session_id"] for r in results) == sorted(fam.session_ids)
        for result in results:
            assert result["outcome"] in {"held", "waitlisted", "already_registered"}
            if result["outcome"] == "already_registered":
                continue
            line_id = result["line_id"]
            assert line_id in by_id, f"answered {result}, line not in the database"
            person, session, _status = by_id[line_id]
            assert (person, session) == (fam.child_id, result["session_id"])

    active = Counter(
        (person, session) for person, session, status in by_id.values() if status in ACTIVE
    )
    assert [k for k, n in active.items() if n > 1] == [], "a child holds a week twice"
    for i in answers.ok:
        fam = families[i]
        for sid in fam.session_ids:
            assert active[(fam.child_id, sid)] == 1, f"family {i}: its line is gone"

    def half_written(db: Session) -> list[Any]:
        bad: list[Any] = list(db.scalars(select(Line.id).where(
            ((Line.status == LineStatus.HELD) & Line.hold_expires_at.is_(None))
            | ((Line.status == LineStatus.WAITLISTED) & Line.waitlisted_at.is_(None))
        )).all())
        holding = Line.status.in_([LineStatus.HELD, LineStatus.OFFERED, LineStatus.CONFIRMED])
        bad += db.execute(
            select(LineOption.id, Line.status, LineOption.holds_place)
            .join(Line, Line.id == LineOption.line_id)
            .where((LineOption.holds_place.is_(True)) != holding)
        ).all()
        return bad

    assert h.run(half_written) == []
    h.assert_within_capacity()
    h.assert_counters_match()
    h.assert_waitlist_contiguous()


def _figures(h: Harness) -> dict[str, int]:
    def q(db: Session) -> dict[str, int]:
        rows = db.execute(
            select(Line.status, func.count(Line.id)).group_by(Line.status)
        ).all()
        options = db.scalar(
            select(func.count(LineOption.id))
            .join(SessionOption, SessionOption.id == LineOption.session_option_id)
            .where(LineOption.holds_place.is_(True))
        )
        return {str(s): int(n) for s, n in rows} | {"options_holding": int(options or 0)}

    return h.run(q)


async def test_sigkill_mid_registration_night_loses_nothing(
    database_url: str, tmp_path: Path  # noqa: F811
) -> None:
    h, families = _seed(database_url)
    first = Process(database_url, tmp_path / "backend-1.log")
    try:
        await first.ready()
        answers = Answers()
        await _fire(first.base_url, families, list(range(FAMILIES)), answers, kill=first)
    finally:
        first.stop()
    assert first.proc.returncode == -signal.SIGKILL
    before = dict(answers.ok)
    unanswered = sorted(answers.unanswered)
    assert len(before) + len(unanswered) == FAMILIES
    assert answers.in_flight_at_kill > 0, "the kill came when nothing was in flight"

    second = Process(database_url, tmp_path / "backend-2.log")
    try:
        await second.ready()
        retry = Answers()
        await _fire(second.base_url, families, unanswered, retry)
    finally:
        second.stop()
    assert retry.unanswered == [] and set(retry.ok) == set(unanswered)
    told_twice = [
        i for i, results in retry.ok.items()
        if any(r["outcome"] == "already_registered" for r in results)
    ]
    # A request the kill interrupted was written whole or not at all: on retry, both of a
    # two-week request's weeks are already registered, or neither is.
    halves = [i for i in told_twice
              if not all(r["outcome"] == "already_registered" for r in retry.ok[i])]
    assert halves == [], f"requests half-written by the kill: {halves}"

    answers.ok |= retry.ok
    _check_database(h, families, answers)
    figures = _figures(h)
    print(
        f"\nSIGKILL ({h.factory.kw['bind'].dialect.name}): {FAMILIES} requests "
        f"({sum(len(f.session_ids) for f in families)} weeks asked), "
        f"{len(before)} answered 2xx before the kill ({dict(answers.statuses)}), "
        f"{answers.in_flight_at_kill} killed in flight, {len(unanswered)} without answer "
        f"(in flight or sent after the kill), all retried after restart: "
        f"{len(retry.ok)} answered 2xx, {len(told_twice)} of them already registered "
        f"(committed before the kill, answer lost); lines now {figures}; lost 0, duplicated 0"
    )
    # Nothing was lost: every family has its line (a held place or a waitlist entry).
    wanted = sum(len(f.session_ids) for f in families)
    assert sum(figures.get(s, 0) for s in ("held", "waitlisted", "offered")) == wanted
    h.factory.kw["bind"].dispose()
