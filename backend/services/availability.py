"""The live part of the catalog: places free and waiting per week and per option, read fresh on
every call (shape: docs/API.md, "Season and catalog").

The catalog's structure (programs, groups, weeks, prices) changes only when the city loads a
season; its numbers change with every reservation. `GET /api/catalog/availability` returns the
numbers alone (`catalog.availability_view`), so a client may keep the structure and ask for the
numbers on every turn; `catalog.catalog_view` reads its numbers here too.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.db.models import Line, LineStatus
from backend.services import capacity, waitlist


def live_numbers(
    db: Session,
    sessions: Iterable[tuple[int, int]],
    options: Iterable[tuple[int, str, int]],
    *,
    now: datetime,
) -> dict[int, dict[str, Any]]:
    """session id -> {capacity, available, waitlist_length, options: {code: available}}, from
    (session id, pool id) and (session id, option code, pool id) pairs.

    Holds and offers that ran out but were not released yet (lazy expiry) still count in
    `taken`: they are not counted as taken here, so "complet" is never said of a place the next
    request would get. The place of an expired line goes to the waitlist first, so waiting
    entries come off what a new parent could get."""
    sessions, options = list(sessions), list(options)
    pool_ids = [pool for _, pool in sessions] + [pool for _, _, pool in options]
    pools = capacity.counts(db, pool_ids)
    expired = waitlist.expired_places(db, pool_ids, now=now)
    waiting = waitlist_lengths(db)

    def free(pool_id: int, waiting_lines: int = 0) -> int:
        cap, taken = pools[pool_id]
        return max(0, cap - taken + expired.get(pool_id, 0) - waiting_lines)

    out: dict[int, dict[str, Any]] = {}
    for session_id, pool_id in sessions:
        in_line = int(waiting.get(session_id, 0))
        out[session_id] = {
            "capacity": pools[pool_id][0],
            "available": free(pool_id, in_line),
            "waitlist_length": in_line,
            "options": {},
        }
    for session_id, code, pool_id in options:
        out[session_id]["options"][code] = free(pool_id)
    return out


def waitlist_lengths(db: Session) -> dict[int, int]:
    """session id -> lines waiting for a place in it, every session in one statement."""
    rows = db.execute(
        select(Line.session_id, func.count(Line.id))
        .where(Line.status == LineStatus.WAITLISTED)
        .group_by(Line.session_id)
    ).all()
    return {int(session_id): int(n) for session_id, n in rows}
