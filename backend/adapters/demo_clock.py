"""The demo's clock: it starts at a chosen instant (2027-04-20 19:00, city time, the evening
registration opens) and then runs in real time, and `/api/dev/clock` can move it."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from backend.adapters.clock import SystemClock, from_local

DEMO_START_LOCAL = datetime(2027, 4, 20, 19, 0)


class OffsetClock:
    def __init__(self, start: datetime, *, base: SystemClock | None = None) -> None:
        """`start` is naive UTC, like every instant in the code."""
        self._base = base or SystemClock()
        self._lock = threading.Lock()
        self._offset = start - self._base.now()

    @classmethod
    def demo(cls) -> OffsetClock:
        return cls(from_local(DEMO_START_LOCAL))

    def now(self) -> datetime:
        with self._lock:
            return self._base.now() + self._offset

    def set(self, instant: datetime) -> None:
        with self._lock:
            self._offset = instant - self._base.now()

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._offset += delta
