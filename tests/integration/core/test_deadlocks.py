"""Transactions PostgreSQL aborts are retried, and services lock pools in one canonical order.

- A real deadlock (two connections locking two rows in opposite orders) aborts our transaction
  with 40P01: `run_transaction` runs it again and it commits once.
- Every attempt aborted: bounded attempts, jittered waits, then `conflict` (409) at the API.
- Two late payments whose orders hold the same two weeks, their lines in opposite orders, are
  made to collide on purpose (a third connection holds the first pool until both wait): each
  confirms, with no deadlock, because both lock the pools in ascending id before retaking them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from backend.adapters.clock import ManualClock
from backend.api.common import AppState
from backend.db import engine as engine_module
from backend.db.base import Base
from backend.db.engine import (
    TransactionConflict,
    make_engine,
    make_session_factory,
    run_transaction,
    transaction,
)
from backend.db.models import CapacityPool, Line, LineStatus
from backend.db.models import Session as ActivitySession
from backend.domain.errors import RegistrationError
from backend.jobs import run_due_jobs
from backend.services import cart, checkout, payments
from backend.settings import Settings
from tests.integration.core.helpers import (
    Harness,
    PaidAtProvider,
    make_harness,
    pay_at_provider,
)


@pytest.fixture
def pg_engine(postgres_schema: tuple[str, dict[str, object]]) -> Iterator[Engine]:
    url, connect_args = postgres_schema
    engine = make_engine(url, connect_args=connect_args, pool_size=10)
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


# ------------------------------------------------------------------ retries


@pytest.mark.postgres
def test_a_real_deadlock_is_retried_and_commits_once(pg_engine: Engine) -> None:
    factory = make_session_factory(pg_engine)
    with transaction(factory) as db:
        p1, p2 = CapacityPool(capacity=10, taken=0), CapacityPool(capacity=10, taken=0)
        db.add_all([p1, p2])
        db.flush()
        ids = (p1.id, p2.id)
    mine_has_first = threading.Event()
    other_has_second = threading.Event()
    attempts: list[int] = []

    def bump(db: Session, pool_id: int) -> None:
        db.execute(
            update(CapacityPool)
            .where(CapacityPool.id == pool_id)
            .values(taken=CapacityPool.taken + 1)
        )

    def mine(db: Session) -> int:
        attempts.append(1)
        # This side detects the deadlock first (the other waits 5 s before checking).
        db.execute(text("SET LOCAL deadlock_timeout = '100ms'"))
        bump(db, ids[0])
        if len(attempts) == 1:
            mine_has_first.set()
            assert other_has_second.wait(10)
        bump(db, ids[1])
        return len(attempts)

    def other() -> None:
        assert mine_has_first.wait(10)
        with transaction(factory) as db:
            db.execute(text("SET LOCAL deadlock_timeout = '5s'"))
            bump(db, ids[1])
            other_has_second.set()
            bump(db, ids[0])  # waits for `mine`, which waits for us: a cycle

    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(other)
        result = run_transaction(factory, mine, sleep=lambda _s: None)
        future.result(timeout=20)
    assert result == 2  # aborted once (40P01), committed on the second attempt
    with transaction(factory) as db:
        taken = db.scalars(
            select(CapacityPool.taken).where(CapacityPool.id.in_(ids)).order_by(CapacityPool.id)
        ).all()
    assert list(taken) == [2, 2]  # our work counted once, the other transaction's once


def _aborted(sqlstate_error: type[psycopg.Error]) -> OperationalError:
    return OperationalError("UPDATE capacity_pool …", {}, sqlstate_error("aborted"))


def test_retries_are_bounded_and_jittered(tmp_path: Any) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/r.db")
    factory = make_session_factory(engine)
    calls: list[int] = []
    waits: list[float] = []

    def always_aborted(db: Session) -> None:
        calls.append(1)
        raise _aborted(psycopg.errors.SerializationFailure)

    with pytest.raises(TransactionConflict):
        run_transaction(factory, always_aborted, sleep=waits.append)
    assert len(calls) == engine_module.MAX_ATTEMPTS
    assert len(waits) == engine_module.MAX_ATTEMPTS - 1
    for attempt, wait in enumerate(waits):
        ceiling = min(
            engine_module.BACKOFF_CAP_SECONDS, engine_module.BACKOFF_BASE_SECONDS * 2**attempt
        )
        assert 0 <= wait <= ceiling
    # Jitter: many draws for one attempt are not all the same value.
    assert len({engine_module.backoff_seconds(3) for _ in range(20)}) > 1

    # Any other database error is not retried.
    calls.clear()

    def broken(db: Session) -> None:
        calls.append(1)
        raise _aborted(psycopg.errors.UndefinedTable)

    with pytest.raises(OperationalError):
        run_transaction(factory, broken, sleep=waits.append)
    assert len(calls) == 1
    engine.dispose()


async def test_the_api_layer_retries_and_answers_conflict_when_it_gives_up(
    tmp_path: Any,
) -> None:
    """AppState.db is the one place every route runs service calls in a transaction."""
    engine = make_engine(f"sqlite:///{tmp_path}/a.db")
    Base.metadata.create_all(engine)
    factory = make_session_factory(engine)
    st = AppState(
        settings=Settings(), clock=None, gateway=None, sms=None, email=None,  # type: ignore[arg-type]
        engine=engine, session_factory=factory, executor=ThreadPoolExecutor(2),
    )
    engine_module_sleep = engine_module.time.sleep
    engine_module.time.sleep = lambda _s: None  # type: ignore[assignment]
    try:
        seen: list[int] = []

        def once_then_ok(db: Session) -> int:
            seen.append(1)
            if len(seen) == 1:
                raise _aborted(psycopg.errors.DeadlockDetected)
            db.add(CapacityPool(capacity=3, taken=0))
            return len(seen)

        assert await st.db(once_then_ok) == 2
        with transaction(factory) as db:
            assert len(db.scalars(select(CapacityPool)).all()) == 1

        def never(db: Session) -> None:
            db.add(CapacityPool(capacity=4, taken=0))
            raise _aborted(psycopg.errors.DeadlockDetected)

        with pytest.raises(RegistrationError) as refused:
            await st.db(never)
        assert refused.value.code == "conflict" and refused.value.http_status == 409
        with transaction(factory) as db:  # nothing of the aborted attempts was kept
            assert len(db.scalars(select(CapacityPool)).all()) == 1
    finally:
        engine_module.time.sleep = engine_module_sleep  # type: ignore[assignment]
        st.executor.shutdown()
        engine.dispose()


# ------------------------------------------------------------------ canonical lock order


def _pay_event(h: Harness, order_id: int) -> PaidAtProvider:
    return pay_at_provider(h, order_id)


def _deliver(factory: sessionmaker[Session], h: Harness, paid: PaidAtProvider) -> Any:
    # Straight `transaction`, no retry: a deadlock would surface here as an error.
    with transaction(factory) as db:
        return payments.on_payment_succeeded(
            db,
            event_id=f"evt_{paid.payment.id}",
            payment=paid.payment,
            clock=h.clock,
            settings=h.settings,
        )


def _waiting_behind(engine: Engine, blocker_pid: int) -> int:
    """Backends waiting, directly or through another waiter, on the blocker's locks."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT pid, pg_blocking_pids(pid) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
        ).all()
    behind, grew = {blocker_pid}, True
    while grew:
        grew = False
        for pid, blockers in rows:
            if pid not in behind and set(blockers or []) & behind:
                behind.add(pid)
                grew = True
    return len(behind) - 1


def _wait_for(condition: Any, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the transactions never started waiting"
        time.sleep(0.05)


@pytest.mark.postgres
def test_two_late_payments_taking_pools_in_opposite_orders_do_not_deadlock(
    pg_engine: Engine, clock: ManualClock
) -> None:
    factory = make_session_factory(pg_engine)
    h = make_harness(factory, clock)
    weeks = [h.camp_session("Parc de la Rivière", "9-12 ans", n) for n in (2, 3)]
    pools = dict(
        h.run(
            lambda db: db.execute(
                select(ActivitySession.id, ActivitySession.pool_id).where(
                    ActivitySession.id.in_(weeks)
                )
            ).all()
        )
    )
    low, high = sorted(weeks, key=lambda s: pools[s])
    julie, marc = h.family_id("100001"), h.family_id("100002")
    lea, emma = h.child_id("Léa", "Tremblay"), h.child_id("Emma", "Gagnon")

    def add(family_id: int, child_id: int, session_id: int) -> None:
        h.run(lambda db: cart.add_lines(
            db, family_id, child_id=child_id, session_ids=[session_id], tshirt_size="M",
            **h.deps,
        ))

    # Julie's lines: high pool first; Marc's: low pool first. Payments retake in line order.
    add(julie, lea, high)
    add(julie, lea, low)
    add(marc, emma, low)
    add(marc, emma, high)
    orders = {}
    for family_id in (julie, marc):
        orders[family_id] = h.run(lambda db, f=family_id: checkout.checkout(
            db, f, installments=1, accept_terms=True, card_on_file_consent=False,
            idempotency_key=None, **h.deps,
        ))["order_id"]
    events = {f: _pay_event(h, o) for f, o in orders.items()}
    # The webhooks come late: holds and links ran out and the job released the places.
    clock.advance(timedelta(minutes=31))
    run_due_jobs(factory, **h.deps)
    assert h.run(lambda db: sorted({
        ln.status for ln in db.scalars(select(Line).where(Line.session_id.in_(weeks)))
    })) == [LineStatus.RELEASED]

    blocker = pg_engine.connect()
    tx = blocker.begin()
    blocker_pid = int(blocker.execute(text("SELECT pg_backend_pid()")).scalar_one())
    blocker.execute(
        select(CapacityPool.id).where(CapacityPool.id == pools[low]).with_for_update()
    ).all()
    with ThreadPoolExecutor(2) as pool:
        # Marc queues first on the low pool; Julie comes second. Without a canonical order she
        # would already hold the high pool, and Marc, served first, would wait on her forever.
        marc_done = pool.submit(_deliver, factory, h, events[marc])
        _wait_for(lambda: _waiting_behind(pg_engine, blocker_pid) >= 1)
        julie_done = pool.submit(_deliver, factory, h, events[julie])
        _wait_for(lambda: _waiting_behind(pg_engine, blocker_pid) >= 2)
        tx.commit()
        blocker.close()
        results = [marc_done.result(timeout=30), julie_done.result(timeout=30)]
    assert [r["outcome"] for r in results] == ["paid", "paid"]
    assert h.run(lambda db: sorted({
        ln.status for ln in db.scalars(select(Line).where(Line.session_id.in_(weeks)))
    })) == [LineStatus.CONFIRMED]
    h.assert_capacity_exact()
