"""Shared fixtures: a ManualClock and database engines for SQLite and PostgreSQL.

`db_engine` is parametrized: every test using it runs on SQLite (a file in tmp_path) and on
PostgreSQL (a fresh schema in the `test` database, dropped afterwards, so parallel runs do not
collide). The PostgreSQL variant is marked `postgres`; it is skipped when the server is down,
except under CI (env CI set), where a missing server fails the run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime
from functools import cache

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from backend.adapters.clock import ManualClock, from_local
from backend.db.base import Base
from backend.db.engine import make_engine, make_session_factory

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@cache
def postgres_available() -> bool:
    try:
        engine = make_engine(POSTGRES_URL, poolclass=None)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return True
    except Exception:
        return False


def require_postgres() -> None:
    if not postgres_available():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required under CI and is not reachable at {POSTGRES_URL}")
        pytest.skip("PostgreSQL not reachable")


@pytest.fixture
def clock() -> ManualClock:
    """20 April 2027, 19:00 in Québec: both registration windows of the demo season are open."""
    return ManualClock(from_local(datetime(2027, 4, 20, 19, 0)))


def sqlite_engine(tmp_path: object, **kwargs: object) -> Engine:
    return make_engine(f"sqlite:///{tmp_path}/test.db", **kwargs)


@pytest.fixture
def postgres_schema() -> Iterator[tuple[str, dict[str, object]]]:
    """A fresh schema; yields (url, connect_args putting it first on the search_path)."""
    require_postgres()
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield POSTGRES_URL, {"options": f"-csearch_path={schema}"}
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_engine(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[Engine]:
    """An empty database with the schema (metadata.create_all; migrations are checked apart)."""
    if request.param == "sqlite":
        engine = sqlite_engine(tmp_path)
        Base.metadata.create_all(engine)
        yield engine
        engine.dispose()
        return
    url, connect_args = request.getfixturevalue("postgres_schema")
    engine = make_engine(url, connect_args=connect_args, pool_size=20, max_overflow=30)
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(db_engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(db_engine)
