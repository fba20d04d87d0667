"""The waitlist ranking the SQL computes agrees with the rule of backend/domain/waitlist.py.

Positions are computed in SQL for speed (a correlated count, and the survey's count of who
waits ahead of a line joining now). On generated data — several sessions, every line status,
join instants drawn from a handful of values so that ties are common (then the id decides),
microseconds included, ids in an order unrelated to the instants — both must give exactly
`waitlist.positions` of the lines still waiting, on SQLite and on PostgreSQL.

Each example writes its lines in one transaction that is rolled back: the seeded catalog
stays as it was for the next example.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.adapters.clock import ManualClock
from backend.db.engine import WRITE_OPTION
from backend.db.models import Cart, Line, LineStatus
from backend.domain import waitlist as rule
from backend.services import queries
from backend.services.waitlist import survey_sessions
from tests.integration.core.helpers import Harness, make_harness

BASE = datetime(2027, 4, 20, 23, 0)
# Few distinct instants, so that many lines join at the same one (ties broken by id).
INSTANTS = [BASE + timedelta(seconds=s, microseconds=u) for s in (0, 1, 60) for u in (0, 1, 999)]


@dataclass(frozen=True)
class Drawn:
    session: int  # index into the harness's sessions
    status: LineStatus
    waitlisted_at: datetime | None


@st.composite
def lines(draw: st.DrawFn) -> tuple[list[Drawn], list[int]]:
    n = draw(st.integers(min_value=0, max_value=30))
    drawn = []
    for _ in range(n):
        status = draw(st.sampled_from(list(LineStatus)))
        # A waiting line always has its instant; the others may (an offer keeps it) or not.
        at = draw(st.sampled_from(INSTANTS))
        if status != LineStatus.WAITLISTED and draw(st.booleans()):
            at = None
        drawn.append(Drawn(draw(st.integers(min_value=0, max_value=2)), status, at))
    # Distinct ids in any order relative to the instants.
    ids = draw(st.lists(st.integers(min_value=1, max_value=999), min_size=n, max_size=n,
                        unique=True))
    return drawn, [1_000_000 + i for i in ids]


@pytest.fixture
def h(session_factory: sessionmaker[Session], clock: ManualClock) -> Harness:
    return make_harness(session_factory, clock)


@contextmanager
def rolled_back(factory: sessionmaker[Session]) -> Iterator[Session]:
    db = factory()
    try:
        db.connection(execution_options={WRITE_OPTION: True})
        yield db
    finally:
        db.rollback()
        db.close()


@dataclass(frozen=True)
class Place:
    """Where the generated lines go: three camp weeks, one family's child (read beforehand:
    the example's own transaction holds SQLite's write lock)."""

    sessions: list[int]
    family_id: int
    child_id: int


def _place(h: Harness) -> Place:
    return Place(
        [h.camp_session("Parc des Érables", "9-12 ans", w) for w in (3, 4, 5)],
        h.family_id("100002"),
        h.child_id("Emma", "Gagnon"),
    )


def _insert(db: Session, where: Place, drawn: list[Drawn], ids: list[int]) -> list[Line]:
    cart = Cart(family_id=where.family_id, is_open=True, created_at=BASE)
    db.add(cart)
    db.flush()
    out = []
    for line_id, d in zip(ids, drawn, strict=True):
        line = Line(
            id=line_id, cart_id=cart.id, person_id=where.child_id,
            session_id=where.sessions[d.session],
            status=d.status, base_price_cents=9500, created_at=BASE, waitlisted_at=d.waitlisted_at,
        )
        db.add(line)
        out.append(line)
    db.flush()
    return out


def _expected(drawn: list[Drawn], ids: list[int]) -> dict[int, int]:
    """The domain rule, session by session, over the lines still waiting."""
    out: dict[int, int] = {}
    for s in {d.session for d in drawn}:
        waiting = [
            rule.Entry(i, d.waitlisted_at)
            for i, d in zip(ids, drawn, strict=True)
            if d.session == s and d.status == LineStatus.WAITLISTED and d.waitlisted_at
        ]
        out |= rule.positions(waiting)
    return out


@settings(
    max_examples=60,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=lines())
def test_sql_positions_are_the_domain_ranking(
    h: Harness, data: tuple[list[Drawn], list[int]]
) -> None:
    drawn, ids = data
    where = _place(h)
    sessions = where.sessions
    with rolled_back(h.factory) as db:
        inserted = _insert(db, where, drawn, ids)
        expected = _expected(drawn, ids)
        assert queries.waitlist_positions(db, inserted) == expected
        # One line at a time (what a cart view asks) gives the same ranks.
        for line in inserted:
            assert queries.waitlist_position(db, line) == expected.get(line.id)
        # Ranks are 1..n in every session.
        for s in sessions:
            ranks = sorted(
                expected[ln.id] for ln in inserted if ln.session_id == s and ln.id in expected
            )
            assert ranks == list(range(1, len(ranks) + 1))


@settings(
    max_examples=40,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=lines(), late=st.sampled_from([timedelta(0), timedelta(microseconds=1)]))
def test_the_position_told_at_request_time_is_the_rank_of_a_line_joining_now(
    h: Harness, data: tuple[list[Drawn], list[int]], late: timedelta
) -> None:
    """`add_lines` tells a new waiting line `survey.waiting_before + 1` without ranking it:
    the line joins at `now` (no earlier instant than any waiting line's) with a fresh id."""
    drawn, ids = data
    where = _place(h)
    sessions = where.sessions
    now = max((d.waitlisted_at for d in drawn if d.waitlisted_at), default=BASE) + late
    with rolled_back(h.factory) as db:
        _insert(db, where, drawn, ids)
        survey = survey_sessions(db, sessions, now=now, person_id=where.child_id)
        new_id = max(ids, default=1_000_000) + 1
        for index, sid in enumerate(sessions):
            joined = [*drawn, Drawn(index, LineStatus.WAITLISTED, now)]
            expected = _expected(joined, [*ids, new_id])[new_id]
            assert survey[sid].waiting_before + 1 == expected
        assert set(db.scalars(select(Line.id).where(Line.id.in_(ids))).all()) == set(ids)
