"""Places: the only code that changes a CapacityPool's counter, and line state moves.

A place is taken with ONE conditional statement (`taken = taken + 1 WHERE taken < capacity`) and
its row count says whether we got it: never "count, then insert". Line state changes that race
(expiry job vs. a parent's request vs. a webhook) are conditional UPDATEs too: exactly one
transaction wins the move, and only the winner gives places back.

Lock order: a service that may touch several pools first locks every pool of the sessions
involved (`lock_sessions`: each session's own pool and its options' pools, the shared vélo
pool included) in ascending pool id, in one statement, before any other row. Two requests
needing overlapping pools then queue on the lowest one instead of each holding what the other
needs: no deadlock between them (`backend.db.engine.run_transaction` still retries one if
PostgreSQL ever aborts it).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import CursorResult, Table, bindparam, select, true, union, update
from sqlalchemy.orm import Session

from backend.db.models import CapacityPool, Line, LineStatus, SessionOption
from backend.db.models import Session as ActivitySession

_NO_SYNC = {"synchronize_session": False}


def _rowcount(result: Any) -> int:
    return cast(CursorResult[Any], result).rowcount


_POOL = cast(Table, CapacityPool.__table__)
# The statements that take places, built once: they run while the pools are locked, and
# building a statement costs more than sending it (docs/BENCHMARKS.md, registration night).
_TAKE_ONE = (
    update(_POOL)
    .where(_POOL.c.id == bindparam("pool_id"), _POOL.c.taken < _POOL.c.capacity)
    .values(taken=_POOL.c.taken + 1)
)
_TAKE_EACH = (
    update(_POOL)
    .where(
        _POOL.c.id.in_(bindparam("pool_ids", expanding=True)),
        _POOL.c.taken < _POOL.c.capacity,
    )
    .values(taken=_POOL.c.taken + 1)
    .returning(_POOL.c.id)
)


def take(db: Session, pool_id: int) -> bool:
    """Take one place; False when the pool is full."""
    return _rowcount(db.execute(_TAKE_ONE, {"pool_id": pool_id})) == 1


def take_each(db: Session, pool_ids: Iterable[int]) -> set[int]:
    """Take one place in each of several distinct pools, in one statement: the pools that
    had one (the same conditional UPDATE as `take`, its RETURNING saying which rows it
    changed). A pool listed twice must go through `take` twice instead."""
    ids = sorted(pool_ids)
    if len(set(ids)) != len(ids):
        raise ValueError("take_each takes one place per pool: repeated pool id")
    if not ids:
        return set()
    if len(ids) == 1:
        return set(ids) if take(db, ids[0]) else set()
    rows = db.execute(_TAKE_EACH, {"pool_ids": ids})
    return {int(pool_id) for pool_id in rows.scalars()}


def release(db: Session, pool_id: int) -> None:
    result = db.execute(
        update(CapacityPool)
        .where(CapacityPool.id == pool_id, CapacityPool.taken > 0)
        .values(taken=CapacityPool.taken - 1)
        .execution_options(**_NO_SYNC)
    )
    if _rowcount(result) != 1:
        raise RuntimeError(f"capacity pool {pool_id} released below zero")


def _is_sqlite(db: Session) -> bool:
    return db.get_bind().dialect.name == "sqlite"


_LOCKED_KEY = "capacity_locked_pools"


def _locked(db: Session, kind: str = "pools") -> set[int]:
    """Pool ids (or session ids, kind="sessions") this transaction has row-locked already; a
    row lock lasts until the transaction ends, so they are not asked for again."""
    txn = db.get_transaction()
    entry = db.info.get(_LOCKED_KEY)
    if entry is None or entry[0] is not txn:
        entry = (txn, {"pools": set(), "sessions": set()})
        if txn is not None:
            db.info[_LOCKED_KEY] = entry
    return cast(set[int], entry[1][kind])


def is_locked(db: Session, pool_id: int) -> bool:
    """True when this transaction already holds the pool's row lock (on SQLite, a write
    transaction holds the database's single write lock: every pool is)."""
    return _is_sqlite(db) or pool_id in _locked(db)


def lock(db: Session, pool_id: int) -> None:
    """Serialise waitlist inserts on one session (PostgreSQL row lock; SQLite's BEGIN IMMEDIATE
    already serialises writers), so positions handed out are exact when they are returned."""
    lock_pools(db, [pool_id])


def session_pool_ids(db: Session, session_ids: Iterable[int]) -> list[int]:
    """Every pool the sessions use: their own and their options' (sorted, no duplicate)."""
    ids = sorted(set(session_ids))
    if not ids:
        return []
    return sorted(set(db.scalars(_pools_of_sessions(ids)).all()))


def _pools_of_sessions(ids: list[int]) -> Any:
    return union(
        select(ActivitySession.pool_id).where(ActivitySession.id.in_(ids)),
        select(SessionOption.pool_id).where(SessionOption.session_id.in_(ids)),
    )


def lock_pools(db: Session, pool_ids: Iterable[int]) -> list[int]:
    """Row-lock the pools in ascending id order (PostgreSQL locks rows as the sorted result is
    produced). SQLite's BEGIN IMMEDIATE already serialises writers (and it has no FOR UPDATE):
    nothing to send. Pools this transaction locked before are not asked for again."""
    ids = sorted(set(pool_ids))
    if ids and not _is_sqlite(db):
        held = _locked(db)
        wanted = [i for i in ids if i not in held]
        if wanted:
            db.execute(
                select(CapacityPool.id)
                .where(CapacityPool.id.in_(wanted))
                .order_by(CapacityPool.id)
                .with_for_update()
            ).all()
            held.update(wanted)
    return ids


def lock_sessions(db: Session, session_ids: Iterable[int]) -> list[int]:
    """Lock every pool of the sessions, in canonical order; call before touching any of them.
    One statement on PostgreSQL (the pools are found in a subquery), none on SQLite."""
    ids = sorted(set(session_ids))
    if not ids or _is_sqlite(db):
        return []
    done = _locked(db, "sessions")
    if done.issuperset(ids):
        return []
    held = _locked(db)
    rows = db.scalars(
        select(CapacityPool.id)
        .where(
            CapacityPool.id.in_(_pools_of_sessions(ids).scalar_subquery()),
            CapacityPool.id.not_in(sorted(held)) if held else true(),
        )
        .order_by(CapacityPool.id)
        .with_for_update()
    ).all()
    held.update(rows)
    done.update(ids)
    return sorted(rows)


def counts(db: Session, pool_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """pool id -> (capacity, taken), read fresh (never from the ORM identity map)."""
    ids = list(set(pool_ids))
    if not ids:
        return {}
    rows = db.execute(
        select(CapacityPool.id, CapacityPool.capacity, CapacityPool.taken).where(
            CapacityPool.id.in_(ids)
        )
    )
    return {row.id: (row.capacity, row.taken) for row in rows}


def move(
    db: Session, line: Line, from_: Iterable[LineStatus], to: LineStatus, **values: object
) -> bool:
    """Move `line` to `to` if it is still in one of `from_`; True if this transaction did it."""
    db.flush()
    result = db.execute(
        update(Line)
        .where(Line.id == line.id, Line.status.in_(list(from_)))
        .values(status=to, **values)
        .execution_options(**_NO_SYNC)
    )
    db.refresh(line)
    return _rowcount(result) == 1


def release_line_places(db: Session, line: Line) -> None:
    """Give back the session place and every option place the line holds."""
    release(db, line.session.pool_id)
    for opt in line.options:
        if opt.holds_place:
            release(db, opt.session_option.pool_id)
            opt.holds_place = False


def take_line_places(db: Session, line: Line) -> bool:
    """Retake a released line's places (late payment): all or nothing. The caller locked the
    line's session first (`lock_sessions`)."""
    if not take(db, line.session.pool_id):
        return False
    got: list[int] = []
    for opt in line.options:
        pool_id = opt.session_option.pool_id
        if not take(db, pool_id):
            for p in got:
                release(db, p)
            release(db, line.session.pool_id)
            return False
        got.append(pool_id)
    for opt in line.options:
        opt.holds_place = True
    return True
