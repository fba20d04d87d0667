"""The demo clock at a speed factor: a rehearsal of registration night runs the evening faster
than real time, and setting or moving the clock keeps that speed from the new instant."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from backend.adapters.clock import ManualClock, SystemClock
from backend.adapters.demo_clock import OffsetClock

REAL = datetime(2026, 12, 1, 20, 0)
NIGHT = datetime(2027, 4, 20, 23, 0)


def test_real_time_by_default() -> None:
    base = ManualClock(REAL)
    clock = OffsetClock(NIGHT, base=base)
    base.advance(timedelta(seconds=90))
    assert clock.now() == NIGHT + timedelta(seconds=90)


def test_twenty_times_faster_from_each_new_instant() -> None:
    base = ManualClock(REAL)
    clock = OffsetClock(NIGHT, base=base, speed=20)
    base.advance(timedelta(seconds=3))
    assert clock.now() == NIGHT + timedelta(minutes=1)
    clock.advance(timedelta(minutes=10))
    assert clock.now() == NIGHT + timedelta(minutes=11)
    base.advance(timedelta(seconds=3))
    assert clock.now() == NIGHT + timedelta(minutes=12)
    clock.set(NIGHT)
    base.advance(timedelta(seconds=30))
    assert clock.now() == NIGHT + timedelta(minutes=10)


def test_a_clock_that_stops_or_runs_backwards_is_refused() -> None:
    with pytest.raises(ValueError):
        OffsetClock(NIGHT, speed=0)


def test_the_speed_applies_to_the_demo_only(tmp_path: Path) -> None:
    from backend.app import create_app
    from backend.settings import Settings

    url = f"sqlite:///{tmp_path / 'x.db'}"
    city = create_app(Settings(database_url=url, demo_clock_speed=20), background=False)
    assert isinstance(city.ctx.state.clock, SystemClock)
    demo = create_app(Settings(database_url=url, demo_mode=True, demo_clock_speed=20),
                      background=False)
    first = demo.ctx.state.clock.now()
    time.sleep(0.05)  # at least 50 ms pass for real: at least a second for the demo
    assert demo.ctx.state.clock.now() - first >= timedelta(seconds=1)
