"""Registration night rehearsed small (bench/rush_rehearsal.py), so that the rehearsal keeps
working: 60 families through the real backend on SQLite with its demo clock 80 times faster.
Every integrity check read from the database passes, nobody is left in line, families bought
places, the staff's rate change is on record; and the checks do catch a broken database."""

from __future__ import annotations

import sys
from pathlib import Path

from sqlalchemy import select, update

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "bench"))

from rehearsal_checks import integrity  # noqa: E402
from rush_rehearsal import Plan, rehearse  # noqa: E402

from backend.db.engine import make_engine, make_session_factory  # noqa: E402
from backend.db.models import CapacityPool, Line, LineStatus  # noqa: E402

PLAN = Plan(families=60, speed=60, rate=12, new_rate=40, cap=30, max_night_minutes=90, seed=7)


def test_a_small_registration_night_loses_nothing_and_sells_places(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/night.db"
    run = rehearse("SQLite", url, PLAN)

    assert run.checks.failed == {}
    assert run.tally.server_errors == 0 and run.tally.failures == []
    outcomes = run.figures.outcomes
    assert outcomes["stopped"] == 0 and outcomes["join_refused"] == 0, outcomes
    # a loaded machine slows the parents' clicks in night time (some then miss their turn);
    # it must never cost a place, a position or a registration, which the checks above cover
    assert outcomes["checked_out"] >= 1, outcomes
    assert run.figures.places_sold >= outcomes["checked_out"]
    assert (run.figures.rate_before, run.figures.rate_after) == (12, 40)

    engine = make_engine(url)
    factory = make_session_factory(engine)
    with factory.begin() as db:
        # what a lost update would leave: a held place the week's count forgot, so that the
        # next parent would be sold it too (the schema itself refuses taken > capacity)
        line = db.scalars(select(Line).where(Line.status == LineStatus.HELD)).first()
        assert line is not None
        db.execute(update(CapacityPool).where(CapacityPool.id == line.session.pool_id)
                   .values(taken=CapacityPool.taken - 1))
    with factory() as db:
        broken = integrity(db, run.rush_id, run.journeys)
    engine.dispose()
    assert [name for name in broken.failed if "overbooked" in name]
