"""`alembic upgrade head` on an empty database gives exactly the models' schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from backend.db.base import Base
from backend.db.engine import make_engine
from tests.conftest import sqlite_engine

ROOT = Path(__file__).resolve().parents[3]


def _upgrade_and_diff(engine: Engine) -> list[Any]:
    config = Config(str(ROOT / "alembic.ini"))
    with engine.connect() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
        conn.commit()
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(ctx, Base.metadata))


def test_sqlite_upgrade_head_matches_models(tmp_path: Path) -> None:
    engine = sqlite_engine(tmp_path)
    try:
        assert _upgrade_and_diff(engine) == []
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgres_upgrade_head_matches_models(
    postgres_schema: tuple[str, dict[str, object]],
) -> None:
    url, connect_args = postgres_schema
    engine = make_engine(url, connect_args=connect_args)
    try:
        assert _upgrade_and_diff(engine) == []
    finally:
        engine.dispose()

