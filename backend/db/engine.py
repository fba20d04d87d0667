"""Engines, sessions and transactions, the same way on SQLite and PostgreSQL.

Why the SQLite part looks like this: Python's sqlite3 driver opens transactions lazily and
"deferred", so a transaction that reads and then writes can fail with SQLITE_BUSY whatever the
busy timeout (the read lock cannot be upgraded while another writer waits). We turn the driver's
own transaction handling off and emit `BEGIN IMMEDIATE` ourselves for write transactions (the
event-listener recipe from SQLAlchemy's pysqlite documentation): writers then queue on the busy
timeout instead of failing, and readers keep using WAL snapshots.

PostgreSQL runs at READ COMMITTED: capacity is taken by conditional UPDATEs on counter rows,
which are safe at that level (a blocked UPDATE re-checks its WHERE on the new row version).
Services lock the capacity rows they will touch first, in pool-id order
(`backend.services.capacity.lock_sessions`), so two requests cannot wait on each other; should
PostgreSQL still abort a transaction (deadlock_detected 40P01, serialization_failure 40001),
`run_transaction` runs it again, a bounded number of times with jitter.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)
T = TypeVar("T")

# Execution option read by the SQLite "begin" listener: False means a read-only transaction.
WRITE_OPTION = "inscriptions_write"
SQLITE_BUSY_TIMEOUT_MS = 30_000


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url` (sqlite:///path or postgresql+psycopg://…); extra kwargs go to
    `create_engine` (tests raise the pool size, for instance)."""
    parsed = make_url(url)
    # Statement parameters (phones, codes' hashes, health records) stay out of SQL logs and of
    # the text of database errors, which end up in logs too.
    kwargs.setdefault("hide_parameters", True)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, **kwargs)
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        # Plain postgresql:// means psycopg2 to SQLAlchemy; we ship psycopg 3.
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    kwargs.setdefault("isolation_level", "READ COMMITTED")
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


# One lock per SQLite engine, taken by `transaction(write=True)` around the whole write
# transaction. SQLite lets one writer in at a time anyway; without this, the writers of this
# process that find the database locked wait in SQLite's busy handler, which polls with sleeps
# growing to 100 ms: a registration-night burst then served writers in no order with seconds of
# tail latency. Queued on a Python lock, they go in turn the moment the previous one commits.
# The busy timeout still covers writers of other processes (the staff CLI, migrations).
_SQLITE_WRITE_LOCKS: weakref.WeakKeyDictionary[Engine, threading.RLock] = (
    weakref.WeakKeyDictionary()
)


def sqlite_write_lock(engine: Engine | None) -> threading.RLock | None:
    """The in-process writer lock of a SQLite engine; None for PostgreSQL."""
    return None if engine is None else _SQLITE_WRITE_LOCKS.get(engine)


def _sqlite_engine(url: str, **kwargs: Any) -> Engine:
    connect_args = dict(kwargs.pop("connect_args", {}))
    connect_args.setdefault("check_same_thread", False)
    connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
    engine = create_engine(url, connect_args=connect_args, **kwargs)
    _SQLITE_WRITE_LOCKS[engine] = threading.RLock()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Driver transaction handling off: we say BEGIN ourselves (see module docstring).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        write = conn.get_execution_options().get(WRITE_OPTION, True)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    # expire_on_commit=False: services return plain dicts, but callers may still read an
    # object after the commit without a surprise reload.
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


@contextmanager
def transaction(factory: sessionmaker[Session], *, write: bool = True) -> Iterator[Session]:
    """One unit of work: commits when the block ends normally, rolls back on any exception.

    `write=False` opens a plain (deferred) transaction on SQLite, for pure reads; a write
    transaction takes SQLite's write lock at BEGIN, after this process's earlier writers
    (`sqlite_write_lock`). PostgreSQL ignores the flag.
    """
    bind = factory.kw.get("bind")
    writer_lock = sqlite_write_lock(bind) if write and isinstance(bind, Engine) else None
    with _queued(writer_lock):
        db = factory()
        try:
            # Procure the connection now, with the option the SQLite begin listener reads.
            db.connection(execution_options={WRITE_OPTION: write})
            yield db
            db.commit()
        except BaseException:
            db.rollback()
            raise
        finally:
            db.close()


@contextmanager
def _queued(lock: threading.RLock | None) -> Iterator[None]:
    """Hold `lock` for the block; after the busy timeout, go on without it (SQLite's own busy
    handler then decides, as it would without the lock: never a wait with no end)."""
    if lock is None:
        yield
        return
    got = lock.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
    try:
        yield
    finally:
        if got:
            lock.release()


# --------------------------------------------------------------------------- retries

# SQLSTATEs meaning "PostgreSQL aborted this transaction, the same work may simply be run again":
# deadlock_detected and serialization_failure. Nothing of the aborted attempt was committed.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
MAX_ATTEMPTS = 5
BACKOFF_BASE_SECONDS = 0.02
BACKOFF_CAP_SECONDS = 0.5


class TransactionConflict(Exception):
    """Every attempt of a transaction was aborted by the database (deadlock or serialization
    failure): the API answers `conflict` (409) and the caller may try again."""

    def __init__(self, attempts: int, last: BaseException) -> None:
        super().__init__(f"transaction aborted {attempts} times: {last}")
        self.attempts = attempts
        self.last = last


def sqlstate(error: BaseException) -> str | None:
    """The SQLSTATE behind a SQLAlchemy/psycopg error, if any."""
    orig = error.orig if isinstance(error, DBAPIError) else error
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return str(code) if code else None


def is_retryable(error: BaseException) -> bool:
    return isinstance(error, DBAPIError) and sqlstate(error) in RETRYABLE_SQLSTATES


def backoff_seconds(attempt: int, rng: random.Random | None = None) -> float:
    """Full jitter: uniform in [0, min(cap, base * 2**attempt)], so two transactions that
    collided do not collide again in lockstep."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * (2**attempt))
    return (rng or random).uniform(0, ceiling)


def run_transaction(
    factory: sessionmaker[Session],
    fn: Callable[[Session], T],
    *,
    write: bool = True,
    attempts: int = MAX_ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run `fn(db)` in one transaction; when PostgreSQL aborts it (deadlock, serialization
    failure), roll back and run `fn` again in a fresh transaction, at most `attempts` times, with
    jittered exponential backoff. Every service call from the HTTP layer and the jobs goes
    through here, so `fn` must only have effects in the database, or idempotent ones (gateway
    calls carry idempotency keys). Raises TransactionConflict when every attempt was aborted."""
    attempts = max(1, attempts)
    for attempt in range(attempts):
        try:
            with transaction(factory, write=write) as db:
                return fn(db)
        except DBAPIError as error:
            if not is_retryable(error):
                raise
            log.warning(
                "transaction aborted by the database (%s), attempt %d/%d",
                sqlstate(error),
                attempt + 1,
                attempts,
            )
            if attempt + 1 == attempts:
                raise TransactionConflict(attempts, error) from error
            sleep(backoff_seconds(attempt))
    raise AssertionError("unreachable")  # pragma: no cover
