"""The one place the code asks what time it is.

Holds, offers, installments and season windows are all decided against `Clock.now()`, so tests
(and the demo) choose the instant instead of depending on today's date. Instants are naive UTC
(what the database stores); `local_date()` gives the calendar date in the city's time zone, which
is what due dates and "semaine du 12 juillet" are about.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

CITY_TZ = ZoneInfo("America/Toronto")  # Québec's time zone (Eastern)


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, naive UTC."""
        ...


def to_local(instant: datetime) -> datetime:
    return instant.replace(tzinfo=UTC).astimezone(CITY_TZ)


def from_local(local: datetime) -> datetime:
    """A naive local (city) wall-clock time to naive UTC."""
    return local.replace(tzinfo=CITY_TZ).astimezone(UTC).replace(tzinfo=None)


def local_date(clock: Clock) -> date:
    return to_local(clock.now()).date()


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC).replace(tzinfo=None)


class ManualClock:
    """A clock that only moves when told to (tests, and the demo's /api/dev/clock)."""

    def __init__(self, start: datetime) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, instant: datetime) -> None:
        with self._lock:
            self._now = instant

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._now += delta
