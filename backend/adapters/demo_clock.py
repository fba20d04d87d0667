"""The demo's clock: it starts at a chosen instant (2027-04-20 19:00, city time, the evening
registration opens) and then runs, in real time or `speed` times faster (DEMO_CLOCK_SPEED: a
rehearsal of registration night, bench/rush_rehearsal.py), and `/api/dev/clock` can move it."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from backend.adapters.clock import Clock, SystemClock, from_local

DEMO_START_LOCAL = datetime(2027, 4, 20, 19, 0)


class OffsetClock:
    def __init__(
        self, start: datetime, *, base: Clock | None = None, speed: float = 1.0
    ) -> None:
        """`start` is naive UTC, like every instant in the code; `speed` night seconds pass
        per real second from then on."""
        if speed <= 0:
            raise ValueError("the clock's speed must be positive")
        self._base = base or SystemClock()
        self._lock = threading.Lock()
        self._speed = speed
        self._anchor, self._anchor_real = start, self._base.now()

    @classmethod
    def demo(cls, speed: float = 1.0) -> OffsetClock:
        return cls(from_local(DEMO_START_LOCAL), speed=speed)

    def _now(self) -> datetime:
        return self._anchor + (self._base.now() - self._anchor_real) * self._speed

    def now(self) -> datetime:
        with self._lock:
            return self._now()

    def set(self, instant: datetime) -> None:
        with self._lock:
            self._anchor, self._anchor_real = instant, self._base.now()

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._anchor, self._anchor_real = self._now() + delta, self._base.now()
