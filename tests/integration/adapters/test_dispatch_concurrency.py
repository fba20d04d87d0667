"""Several dispatchers at once over one backlog: every message leaves exactly once.

Each dispatcher runs in its own thread with its own event loop, as separate backend processes
would; on PostgreSQL they claim with FOR UPDATE SKIP LOCKED, on SQLite the write lock
serialises the claims. A dispatcher that died after claiming leaves its rows to the others once
the lease has lapsed.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.adapters.clock import ManualClock
from backend.db.engine import transaction
from backend.db.models import AccountStatus, Family
from backend.db.notifications import Notification, NotificationStatus
from backend.services import dispatch, outbox

BACKLOG = 40  # families, each with a texto and a courriel
DISPATCHERS = 4


class Provider:
    """Records every message it is handed; yields to the loop so dispatchers interleave."""

    def __init__(self) -> None:
        self.bodies: list[str] = []
        self.lock = threading.Lock()

    async def send(self, *, to: str, body: str, subject: str = "") -> str:
        await asyncio.sleep(0)
        with self.lock:
            self.bodies.append(body)
            return f"id-{len(self.bodies)}"


def _backlog(factory: sessionmaker[Session], clock: ManualClock) -> None:
    with transaction(factory) as db:
        for n in range(BACKLOG):
            family = Family(
                client_number=f"{200000 + n}",
                phone=f"+1418555{n:04d}",
                phone_can_text=True,
                email=f"parent{n}@example.com",
                resident=True,
                status=AccountStatus.APPROVED,
                created_at=clock.now(),
            )
            db.add(family)
            db.flush()
            outbox.enqueue(
                db,
                clock=clock,
                family=family,
                kind="confirmation",
                params={"lines": [{"child": f"Enfant{n:03d}", "program": "Soccer"}]},
            )


def _run_dispatchers(
    factory: sessionmaker[Session], clock: ManualClock, provider: Provider
) -> None:
    barrier = threading.Barrier(DISPATCHERS)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            while asyncio.run(
                dispatch.dispatch_pending(
                    factory, clock=clock, sms=provider, email=provider, limit=3
                )
            ):
                pass
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(DISPATCHERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_parallel_dispatchers_send_each_message_once(
    session_factory: sessionmaker[Session], clock: ManualClock
) -> None:
    _backlog(session_factory, clock)
    provider = Provider()
    _run_dispatchers(session_factory, clock, provider)

    counts = Counter(provider.bodies)
    assert len(counts) == 2 * BACKLOG  # every texto and courriel arrived...
    assert set(counts.values()) == {1}  # ...once
    with transaction(session_factory) as db:
        rows = db.scalars(select(Notification)).all()
        assert {(r.status, r.attempts) for r in rows} == {(NotificationStatus.SENT, 1)}


def test_a_dead_dispatchers_claim_is_taken_over_after_its_lease(
    session_factory: sessionmaker[Session], clock: ManualClock
) -> None:
    _backlog(session_factory, clock)
    # A dispatcher claims a batch, then its process dies before sending anything.
    claimed = dispatch._claim(session_factory, clock, 10, dispatch.DEFAULT_POLICY)
    assert len(claimed) == 10
    provider = Provider()
    _run_dispatchers(session_factory, clock, provider)
    assert len(provider.bodies) == 2 * BACKLOG - 10  # the claimed rows wait for their lease

    clock.advance(timedelta(seconds=dispatch.DEFAULT_POLICY.lease_seconds))
    _run_dispatchers(session_factory, clock, provider)
    counts = Counter(provider.bodies)
    assert len(counts) == 2 * BACKLOG and set(counts.values()) == {1}
