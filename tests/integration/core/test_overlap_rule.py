"""The overlap rule: the pure function on chosen schedules, and the service's SQL preselection
agreeing with it on any generated set of lines (both databases)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.adapters.clock import ManualClock
from backend.db.engine import WRITE_OPTION
from backend.db.models import CapacityPool, Cart, Group, Line, LineStatus, Program
from backend.db.models import Session as ActivitySession
from backend.domain.overlap import ALL_WEEKDAYS, Slot, overlaps, parse_weekdays
from backend.services import overlaps as service
from tests.integration.core.helpers import Harness, make_harness

MONDAY = date(2027, 6, 28)
NINE, NOON, FOUR = time(9), time(12), time(16)


def _camp_week(monday: date) -> Slot:
    return Slot(monday, monday + timedelta(days=4), frozenset({1, 2, 3, 4, 5}), NINE, FOUR)


SATURDAYS = Slot(date(2027, 7, 3), date(2027, 8, 21), frozenset({6}), NINE, NOON)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (_camp_week(MONDAY), _camp_week(MONDAY), True),  # the same week in two parks
        (_camp_week(MONDAY), _camp_week(MONDAY + timedelta(weeks=1)), False),  # next week
        (SATURDAYS, SATURDAYS, True),  # two swimming levels, same Saturday mornings
        (SATURDAYS, _camp_week(MONDAY + timedelta(weeks=1)), False),  # weekdays vs Saturdays
        # Tuesday evenings during a camp week: same dates, other hours.
        (
            Slot(date(2027, 6, 29), date(2027, 8, 17), frozenset({2}), time(18, 30), time(20)),
            _camp_week(MONDAY),
            False,
        ),
        # A class ending at noon and one starting at noon do not overlap.
        (SATURDAYS, Slot(date(2027, 7, 3), date(2027, 7, 3), frozenset({6}), NOON, FOUR), False),
        # Unknown hours take the whole day; unknown weekdays every day.
        (SATURDAYS, Slot(date(2027, 7, 10), date(2027, 7, 10)), True),
        (SATURDAYS, Slot(date(2027, 7, 5), date(2027, 7, 9)), False),  # Monday to Friday
        # A Saturday-only session within a Wednesday-to-Friday span never meets.
        (Slot(date(2027, 7, 7), date(2027, 7, 9)), SATURDAYS, False),
    ],
)
def test_the_rule_on_the_demo_citys_schedules(a: Slot, b: Slot, expected: bool) -> None:
    assert overlaps(a, b) is expected
    assert overlaps(b, a) is expected


def test_weekdays_are_read_as_iso_digits() -> None:
    assert parse_weekdays("12345") == frozenset({1, 2, 3, 4, 5})
    assert parse_weekdays(None) == ALL_WEEKDAYS == parse_weekdays("")
    with pytest.raises(ValueError):
        parse_weekdays("08")


# ------------------------------------------------------------- SQL preselection vs the rule

BASE = date(2027, 6, 1)
NOW = datetime(2027, 4, 20, 23, 0)


@dataclass(frozen=True)
class Drawn:
    offset: int
    days: int
    weekdays: str | None
    hours: tuple[time, time] | None


@dataclass(frozen=True)
class DrawnLine:
    session: int
    status: LineStatus
    expired: bool


def _hours() -> st.SearchStrategy[tuple[time, time] | None]:
    start = st.integers(min_value=6 * 4, max_value=21 * 4)
    span = st.integers(min_value=1, max_value=10 * 4)
    pair = st.tuples(start, span).map(
        lambda p: (time(p[0] // 4, p[0] % 4 * 15), time(min(p[0] + p[1], 95) // 4, 59))
    )
    return st.none() | pair


def _weekdays() -> st.SearchStrategy[str | None]:
    days = st.sets(st.integers(min_value=1, max_value=7), min_size=1, max_size=7)
    return st.none() | days.map(lambda d: "".join(str(x) for x in sorted(d)))


sessions_st = st.lists(
    st.builds(
        Drawn,
        # Short spans close together: shared first and last days (the preselection's
        # boundaries) come up often.
        offset=st.integers(min_value=0, max_value=10),
        days=st.integers(min_value=0, max_value=12),
        weekdays=_weekdays(),
        hours=_hours(),
    ),
    min_size=1,
    max_size=6,
)


def _slot(d: Drawn) -> Slot:
    start = BASE + timedelta(days=d.offset)
    return Slot(
        start,
        start + timedelta(days=d.days),
        parse_weekdays(d.weekdays),
        d.hours[0] if d.hours else None,
        d.hours[1] if d.hours else None,
    )


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


@settings(
    max_examples=100,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    drawn=sessions_st,
    lines=st.lists(
        st.builds(
            DrawnLine,
            session=st.integers(min_value=0, max_value=5),
            status=st.sampled_from(list(LineStatus)),
            expired=st.booleans(),
        ),
        max_size=8,
    ),
    wanted=st.integers(min_value=0, max_value=5),
    skip_first=st.booleans(),
)
# The preselection's two boundaries: a session starting on the wanted one's last day, and one
# ending on its first day, both sharing that single day.
@example(
    drawn=[Drawn(0, 3, None, None), Drawn(3, 2, None, None)],
    lines=[DrawnLine(1, LineStatus.CONFIRMED, False)],
    wanted=0,
    skip_first=False,
)
@example(
    drawn=[Drawn(3, 2, None, None), Drawn(0, 3, None, None)],
    lines=[DrawnLine(1, LineStatus.HELD, False)],
    wanted=0,
    skip_first=False,
)
def test_the_service_finds_exactly_the_lines_the_rule_calls_overlapping(
    h: Harness, drawn: list[Drawn], lines: list[DrawnLine], wanted: int, skip_first: bool
) -> None:
    family_id, child_id = h.family_id("100001"), h.child_id("Thomas", "Tremblay")
    with rolled_back(h.factory) as db:
        program_id = db.scalar(select(Program.id).where(Program.name == "Natation Junior"))
        group = Group(program_id=program_id, label="Essai", min_age=0, max_age=99)
        db.add(group)
        sessions = []
        for number, d in enumerate(drawn, start=1):
            slot = _slot(d)
            s = ActivitySession(
                group=group, number=number, starts_on=slot.starts_on, ends_on=slot.ends_on,
                meets_weekdays=d.weekdays, meets_from=slot.from_time,
                meets_until=slot.until_time, pool=CapacityPool(capacity=10, taken=0),
                price_resident_cents=1000, price_nonresident_cents=1000,
            )  # fmt: skip
            db.add(s)
            sessions.append(s)
        cart = Cart(family_id=family_id, is_open=True, created_at=NOW)
        db.add(cart)
        db.flush()
        inserted: list[tuple[Line, DrawnLine]] = []
        for d in lines:
            line = Line(
                cart_id=cart.id, person_id=child_id,
                session_id=sessions[d.session % len(sessions)].id, status=d.status,
                base_price_cents=1000, created_at=NOW,
                hold_expires_at=NOW + timedelta(minutes=-1 if d.expired else 1),
            )  # fmt: skip
            db.add(line)
            inserted.append((line, d))
        db.flush()
        target = sessions[wanted % len(sessions)]
        skip = [inserted[0][0].id] if skip_first and inserted else []

        _child, taken = service.lock_child_and_read(
            db, child_id, [target], now=NOW, except_line_ids=skip
        )
        found = service.conflict_for(target, taken)

        blocking = [
            line.id
            for line, d in inserted
            if line.id not in skip
            and line.session_id != target.id
            and (
                d.status == LineStatus.CONFIRMED or (d.status == LineStatus.HELD and not d.expired)
            )
            and overlaps(_slot(drawn[wanted % len(drawn)]), _slot(drawn[d.session % len(drawn)]))
        ]
        assert (found.line_id if found else None) == (min(blocking) if blocking else None)
