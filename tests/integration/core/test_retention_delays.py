"""Law 25 delays, on both databases: outbox messages go `retention_outbox_days` after they were
written, and the bot's conversations (Rasa's SQL tracker store, a real `events` table with
Rasa 3.6's column layout) go whole once their last event is older than
`retention_conversation_days`."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.orm import Session, sessionmaker

from backend.adapters.clock import ManualClock
from backend.db.engine import make_engine
from backend.db.notifications import Notification
from backend.jobs import run_due_jobs
from backend.services import identification, retention
from backend.settings import Settings
from tests.conftest import POSTGRES_URL, require_postgres
from tests.integration.core.helpers import Harness, make_harness

_rasa = MetaData()
# Rasa 3.6's SQLTrackerStore.SQLEvent, column for column.
EVENTS = Table(
    "events",
    _rasa,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)


@pytest.fixture
def h(session_factory: sessionmaker[Session], clock: ManualClock) -> Harness:
    return make_harness(session_factory, clock)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def tracker_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty tracker database: a SQLite file, or a PostgreSQL schema first on the path."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tracker.db'}"
        return
    require_postgres()
    schema = "tr_" + uuid.uuid4().hex[:12]
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _messages(h: Harness) -> int:
    return int(h.run(lambda db: db.scalar(select(func.count()).select_from(Notification))) or 0)


def test_outbox_messages_go_after_their_delay(h: Harness) -> None:
    h.run(
        lambda db: identification.start(
            db, client_number="100001", phone="418-555-0101", clock=h.clock, settings=h.settings
        )
    )
    assert _messages(h) == 1
    h.clock.advance(timedelta(days=29, hours=23))
    h.run(
        lambda db: identification.start(
            db, client_number="100002", phone="418-555-0102", clock=h.clock, settings=h.settings
        )
    )
    assert run_due_jobs(h.factory, **h.deps)["retention"]["messages_deleted"] == 0
    assert _messages(h) == 2

    h.clock.advance(timedelta(hours=2))  # the first is now 30 days and an hour old
    assert run_due_jobs(h.factory, **h.deps)["retention"]["messages_deleted"] == 1
    recipients = h.run(lambda db: list(db.scalars(select(Notification.recipient))))
    assert recipients == ["+14185550102"]  # the recent one stays


def _event(sender: str, at: datetime, type_name: str = "user") -> dict[str, object]:
    return {
        "sender_id": sender,
        "type_name": type_name,
        "timestamp": at.replace(tzinfo=UTC).timestamp(),
        "intent_name": "inscrire" if type_name == "user" else None,
        "action_name": None if type_name == "user" else "action_listen",
        "data": json.dumps({"event": type_name, "text": "Bonjour"}),
    }


def test_conversations_go_whole_once_their_last_event_is_old(
    tracker_url: str, clock: ManualClock
) -> None:
    engine = make_engine(tracker_url)
    _rasa.create_all(engine)
    now = clock.now()
    with engine.begin() as conn:
        conn.execute(
            insert(EVENTS),
            [
                # Quiet for 31 days: goes, every event of it.
                _event("old", now - timedelta(days=40)),
                _event("old", now - timedelta(days=31), "action"),
                # Started long ago but spoke yesterday: stays whole, its old events included.
                _event("ongoing", now - timedelta(days=45)),
                _event("ongoing", now - timedelta(days=1), "action"),
                # 29 days: not yet.
                _event("recent", now - timedelta(days=29)),
            ],
        )
    settings = Settings(tracker_database_url=tracker_url)
    try:
        assert retention.forget_old_conversations(clock=clock, settings=settings, force=True) == 2
        with engine.connect() as conn:
            left = sorted(conn.execute(select(EVENTS.c.sender_id)).scalars())
        assert left == ["ongoing", "ongoing", "recent"]

        clock.advance(timedelta(days=2))  # "recent" is now 31 days quiet
        assert retention.forget_old_conversations(clock=clock, settings=settings, force=True) == 1
        with engine.connect() as conn:
            left = sorted(conn.execute(select(EVENTS.c.sender_id)).scalars())
        assert left == ["ongoing", "ongoing"]
    finally:
        engine.dispose()


def test_the_jobs_purge_the_tracker_at_most_hourly(h: Harness, tracker_url: str) -> None:
    engine = make_engine(tracker_url)
    # No table yet (Rasa has not started): nothing to do, no error.
    settings = replace(h.settings, tracker_database_url=tracker_url)
    deps = {**h.deps, "settings": settings}
    assert run_due_jobs(h.factory, **deps)["retention"]["conversations_deleted"] == 0
    _rasa.create_all(engine)
    try:
        with engine.begin() as conn:
            conn.execute(insert(EVENTS), [_event("a", h.clock.now() - timedelta(days=31))])
        h.clock.advance(timedelta(minutes=61))
        assert run_due_jobs(h.factory, **deps)["retention"]["conversations_deleted"] == 1
        with engine.begin() as conn:
            conn.execute(insert(EVENTS), [_event("b", h.clock.now() - timedelta(days=31))])
        h.clock.advance(timedelta(minutes=5))
        assert run_due_jobs(h.factory, **deps)["retention"]["conversations_deleted"] == 0
        h.clock.advance(timedelta(minutes=56))
        assert run_due_jobs(h.factory, **deps)["retention"]["conversations_deleted"] == 1
    finally:
        engine.dispose()
