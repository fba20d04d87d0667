"""200 parents at once on a 20-place week, from separate connections (threads, each with its
own Session), released together by a barrier: exactly 20 holds and 180 waitlist entries ranked
1..180; after the holds expire, 20 offers go to positions 1..20 and the rest is ranked 1..160.

The same harness run with a naive "count, then insert" shows that it catches overbooking.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from backend.adapters.clock import ManualClock
from backend.db.engine import make_session_factory, transaction
from backend.db.models import (
    AccountStatus,
    CapacityPool,
    Cart,
    Family,
    Line,
    LineStatus,
    Person,
)
from backend.db.models import Session as ActivitySession
from backend.services import cart, queries, waitlist
from tests.integration.core.helpers import Harness, make_harness

PARENTS = 200
PLACES = 20

Attempt = Callable[[Session, int, int], dict[str, Any]]


def _make_families(h: Harness, n: int) -> list[tuple[int, int]]:
    def create(db: Session) -> list[tuple[int, int]]:
        out = []
        for i in range(n):
            fam = Family(
                client_number=f"7{i:05d}", phone=f"+1819555{i:04d}", email=None,
                resident=True, status=AccountStatus.APPROVED, created_at=h.clock.now(),
            )
            fam.members.append(Person(first_name="Parent", last_name=f"P{i}",
                                      birth_date=date(1985, 1, 1), is_adult=True, is_payer=True))
            child = Person(first_name="Enfant", last_name=f"P{i}", birth_date=date(2019, 12, 1),
                           is_adult=False, tshirt_size="M")
            fam.members.append(child)
            db.add(fam)
            db.flush()
            out.append((fam.id, child.id))
        return out

    return h.run(create)


def _race(factory: sessionmaker[Session], people: list[tuple[int, int]], attempt: Attempt,
          ) -> tuple[list[dict[str, Any]], list[BaseException], float]:
    barrier = threading.Barrier(len(people))
    results: list[dict[str, Any]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(family_id: int, child_id: int) -> None:
        try:
            barrier.wait(timeout=60)
            with transaction(factory) as db:
                r = attempt(db, family_id, child_id)
            with lock:
                results.append(r)
        except BaseException as exc:  # collected and asserted on below
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=run, args=p) for p in people]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    return results, errors, time.perf_counter() - start


def _positions(h: Harness, session_id: int) -> list[tuple[int, int]]:
    """(line id, position) of every waiting line, in ranking order."""

    def q(db: Session) -> list[tuple[int, int]]:
        lines = db.scalars(
            select(Line)
            .where(Line.session_id == session_id, Line.status == LineStatus.WAITLISTED)
            .order_by(Line.waitlisted_at, Line.id)
        ).all()
        return [(ln.id, queries.waitlist_position(db, ln) or 0) for ln in lines]

    return h.run(q)


def _count(h: Harness, session_id: int, status: LineStatus) -> int:
    return int(h.run(lambda db: db.scalar(select(func.count(Line.id)).where(
        Line.session_id == session_id, Line.status == status))) or 0)


def test_200_parents_on_20_places(
    session_factory: sessionmaker[Session], clock: ManualClock, record_property: Any
) -> None:
    h = make_harness(session_factory, clock)
    session_id = h.camp_session("Parc des Érables", "7-8 ans", 2)
    people = _make_families(h, PARENTS)

    def attempt(db: Session, family_id: int, child_id: int) -> dict[str, Any]:
        out = cart.add_lines(db, family_id, child_id=child_id, session_ids=[session_id],
                             join_waitlist=True, **h.deps)
        return dict(out["results"][0])

    results, errors, elapsed = _race(session_factory, people, attempt)
    record_property("race_seconds", round(elapsed, 2))
    print(f"\n200 concurrent add_lines: {elapsed:.2f} s")
    assert errors == []
    outcomes = sorted(r["outcome"] for r in results)
    assert outcomes.count("held") == PLACES
    assert outcomes.count("waitlisted") == PARENTS - PLACES
    # Positions handed back at request time, and recomputed now: 1..180, no gap, no duplicate.
    told = sorted(r["waitlist_position"] for r in results if r["outcome"] == "waitlisted")
    assert told == list(range(1, PARENTS - PLACES + 1))
    ranking = _positions(h, session_id)
    assert [p for _, p in ranking] == list(range(1, PARENTS - PLACES + 1))
    told_by_line = {r["line_id"]: r["waitlist_position"] for r in results}
    assert all(told_by_line[line_id] == pos for line_id, pos in ranking)
    assert _count(h, session_id, LineStatus.HELD) == PLACES
    h.assert_capacity_exact()

    # The 20 holds run out: the first 20 in line get offers, the others move up to 1..160.
    first_twenty = {line_id for line_id, pos in ranking if pos <= PLACES}
    clock.advance(timedelta(minutes=21))
    counts = h.run(lambda db: waitlist.expire_and_cascade(db, **h.deps))
    assert counts["holds_released"] == PLACES and counts["offers_made"] == PLACES
    offered = set(h.run(lambda db: db.scalars(select(Line.id).where(
        Line.session_id == session_id, Line.status == LineStatus.OFFERED)).all()))
    assert offered == first_twenty
    rest = _positions(h, session_id)
    assert [p for _, p in rest] == list(range(1, PARENTS - 2 * PLACES + 1))
    assert [line_id for line_id, _ in rest] == [line_id for line_id, p in ranking if p > PLACES]
    assert len(h.notifications("waitlist_offer")) == PLACES
    h.assert_capacity_exact()


def _naive_attempt(session_id: int, now: Any) -> Attempt:
    """What the test must catch: count the places taken, then insert if it looked free."""

    def attempt(db: Session, family_id: int, child_id: int) -> dict[str, Any]:
        session = db.get(ActivitySession, session_id)
        assert session is not None
        cap = db.scalar(select(CapacityPool.capacity).where(CapacityPool.id == session.pool_id))
        taken = db.scalar(select(func.count(Line.id)).where(
            Line.session_id == session_id,
            Line.status.in_([LineStatus.HELD, LineStatus.CONFIRMED])))
        cart_id = db.scalar(select(Cart.id).where(Cart.family_id == family_id))
        if cart_id is None:
            c = Cart(family_id=family_id, is_open=True, created_at=now)
            db.add(c)
            db.flush()
            cart_id = c.id
        status = LineStatus.HELD if (taken or 0) < (cap or 0) else LineStatus.WAITLISTED
        db.add(Line(cart_id=cart_id, person_id=child_id, session_id=session_id, status=status,
                    base_price_cents=9500, created_at=now, waitlisted_at=now))
        db.flush()
        return {"outcome": status.value}

    return attempt


@pytest.mark.postgres
def test_the_harness_catches_a_naive_count_then_insert(
    postgres_schema: tuple[str, dict[str, object]], clock: ManualClock
) -> None:
    from backend.db.base import Base
    from backend.db.engine import make_engine

    url, connect_args = postgres_schema
    engine: Engine = make_engine(url, connect_args=connect_args, pool_size=20, max_overflow=30)
    try:
        Base.metadata.create_all(engine)
        h = make_harness(make_session_factory(engine), clock)
        people = _make_families(h, PARENTS)
        worst = 0
        for run in range(5):
            session_id = h.camp_session("Parc des Érables", "7-8 ans", run + 2)
            _race(h.factory, people, _naive_attempt(session_id, clock.now()))
            worst = max(worst, _count(h, session_id, LineStatus.HELD))
            if worst > PLACES:
                break
        print(f"\nnaive count-then-insert held {worst} lines on {PLACES} places")
        assert worst > PLACES, "the race never happened: the harness would not catch it"
    finally:
        engine.dispose()
