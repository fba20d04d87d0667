"""Holds that expired but were not released yet (the job has not run) never make a week look
full: the catalog does not count them, and a request gets the place, the shared vélo place
included. At a set clock, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from backend.adapters.clock import ManualClock
from backend.db.models import CapacityPool, Line, LineStatus, SessionOption
from backend.db.models import Session as ActivitySession
from backend.services import cart, catalog, staff
from tests.integration.core.helpers import Harness, make_harness

RIVIERE = "Parc de la Rivière"


@pytest.fixture
def h(session_factory: sessionmaker[Session], clock: ManualClock) -> Harness:
    return make_harness(session_factory, clock)


def _session_view(h: Harness, session_id: int) -> dict[str, Any]:
    view = h.run(lambda db: catalog.catalog_view(db, clock=h.clock))
    for program in view["programs"]:
        for group in program["groups"]:
            for s in group["sessions"]:
                if s["id"] == session_id:
                    return dict(s)
    raise AssertionError(session_id)


def _velo(s: dict[str, Any]) -> int:
    return int(next(o["available"] for o in s["options"] if o["code"] == "velo"))


def _add(h: Harness, client: str, child: tuple[str, str], session_id: int, **kw: Any) -> Any:
    fid, cid = h.family_id(client), h.child_id(*child)
    kw.setdefault("tshirt_size", "M")
    return h.run(lambda db: cart.add_lines(
        db, fid, child_id=cid, session_ids=[session_id], **kw, **h.deps
    ))["results"][0]


def _capacity_one(h: Harness, session_id: int) -> None:
    h.run(lambda db: staff.set_capacity(db, session_id, 1, **h.deps))


def test_an_expired_hold_is_not_counted_and_the_next_parent_gets_the_place(h: Harness) -> None:
    week = h.camp_session(RIVIERE, "9-12 ans", 4)
    _capacity_one(h, week)
    assert _add(h, "100001", ("Léa", "Tremblay"), week)["outcome"] == "held"
    assert _session_view(h, week)["available"] == 0  # held: really taken for 20 minutes

    h.clock.advance(timedelta(minutes=21))  # the hold ran out; no job has run
    assert _session_view(h, week)["available"] == 1
    # What the catalog says is what the next request gets.
    assert _add(h, "100002", ("Emma", "Gagnon"), week)["outcome"] == "held"
    assert _session_view(h, week)["available"] == 0
    h.assert_capacity_exact()


def test_an_expired_hold_goes_to_the_waitlist_first(h: Harness) -> None:
    week = h.camp_session(RIVIERE, "9-12 ans", 5)
    _capacity_one(h, week)
    assert _add(h, "100001", ("Léa", "Tremblay"), week)["outcome"] == "held"
    waiting = _add(h, "100002", ("Emma", "Gagnon"), week, join_waitlist=True)
    assert waiting["outcome"] == "waitlisted"
    h.clock.advance(timedelta(minutes=21))
    view = _session_view(h, week)
    # The freed place is Emma's (offer), not a new parent's: still complet for the catalog.
    assert view["available"] == 0 and view["waitlist_length"] == 1


def test_an_expired_hold_in_another_group_frees_the_shared_velo_place(h: Harness) -> None:
    lea_week = h.camp_session(RIVIERE, "9-12 ans", 6)
    thomas_week = h.camp_session(RIVIERE, "7-8 ans", 6)

    def velo_pool(db: Session) -> int:
        return int(db.scalar(
            select(SessionOption.pool_id).where(
                SessionOption.session_id == thomas_week, SessionOption.code == "velo"
            )
        ))

    pool_id = h.run(velo_pool)
    h.run(lambda db: db.execute(
        update(CapacityPool).where(CapacityPool.id == pool_id).values(capacity=1)
    ))
    assert _add(h, "100002", ("Emma", "Gagnon"), lea_week, options=["velo"])["outcome"] == "held"
    assert _velo(_session_view(h, thomas_week)) == 0  # the site's one bicycle place is held
    refused = _add(h, "100001", ("Thomas", "Tremblay"), thomas_week, options=["velo"])
    assert refused["outcome"] == "option_full"

    h.clock.advance(timedelta(minutes=21))  # Emma's hold (another group) ran out
    assert _velo(_session_view(h, thomas_week)) == 1
    got = _add(h, "100001", ("Thomas", "Tremblay"), thomas_week, options=["velo"])
    assert got["outcome"] == "held"
    emma_line = h.run(lambda db: db.scalar(
        select(Line.status).where(Line.session_id == lea_week)
    ))
    assert emma_line == LineStatus.RELEASED
    assert h.run(lambda db: db.get(ActivitySession, thomas_week)) is not None
    h.assert_capacity_exact()
