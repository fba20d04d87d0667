"""When a person answers the city's help desk line. Pure: local wall-clock times in, no I/O.

The hours are weekly opening ranges per ISO weekday (1 = Monday), written in the settings as
`HELP_DESK_HOURS="1-5 08:30-16:30; 6 09:00-12:00"`. Inside a range the bot gives the phone
line; outside it, the parent may leave a callback request and is told the next opening.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta


@dataclass(frozen=True)
class Opening:
    opens: time
    closes: time


WeeklyHours = Mapping[int, tuple[Opening, ...]]

_RANGE = re.compile(
    r"^\s*(?P<first>[1-7])(?:\s*-\s*(?P<last>[1-7]))?\s+"
    r"(?P<oh>\d{1,2})[:h](?P<om>\d{2})\s*-\s*(?P<ch>\d{1,2})[:h](?P<cm>\d{2})\s*$"
)


def parse_hours(text: str) -> dict[int, tuple[Opening, ...]]:
    """`"1-5 08:30-16:30; 6 09:00-12:00"` -> {weekday: openings}. ValueError on anything else
    (a typo in the settings must stop the backend, not silently close the help desk)."""
    hours: dict[int, list[Opening]] = {}
    for part in filter(str.strip, text.split(";")):
        found = _RANGE.match(part)
        if found is None:
            raise ValueError(f"help desk hours: cannot read {part.strip()!r}")
        first = int(found["first"])
        last = int(found["last"] or first)
        opening = Opening(
            time(int(found["oh"]), int(found["om"])), time(int(found["ch"]), int(found["cm"]))
        )
        if last < first or opening.closes <= opening.opens:
            raise ValueError(f"help desk hours: empty range {part.strip()!r}")
        for day in range(first, last + 1):
            hours.setdefault(day, []).append(opening)
    return {day: tuple(sorted(spans, key=lambda o: o.opens)) for day, spans in hours.items()}


def help_desk_open(now: datetime, hours: WeeklyHours) -> bool:
    """Whether a person answers the line at `now` (the city's local wall-clock time)."""
    moment = now.time()
    return any(o.opens <= moment < o.closes for o in hours.get(now.isoweekday(), ()))


def next_opening(now: datetime, hours: WeeklyHours) -> datetime | None:
    """The next local instant at or after `now` when the help desk opens (`now` itself when it
    is open); None when the hours name no day at all."""
    if help_desk_open(now, hours):
        return now
    for days_ahead in range(8):
        day = (now + timedelta(days=days_ahead)).date()
        for opening in hours.get(day.isoweekday(), ()):
            start = datetime.combine(day, opening.opens)
            if start > now:
                return start
    return None
