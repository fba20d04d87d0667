"""Alembic environment: migrates the database at DATABASE_URL (or the one given by the caller).

A caller may pass an open connection in `config.attributes["connection"]` (tests, and
`backend.demo`); otherwise an engine is made the same way the backend makes it.
SQLite cannot ALTER most things, so migrations run in batch mode there.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy.engine import Connection

from backend.db.base import Base
from backend.db.engine import make_engine
from backend.settings import Settings

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return (
        config.attributes.get("url")
        or os.environ.get("DATABASE_URL")
        or Settings().database_url
    )


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    url = _url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    given = config.attributes.get("connection")
    if given is not None:
        _run(given)
        return
    url = _url()
    if url.startswith("sqlite:///"):
        directory = os.path.dirname(url.removeprefix("sqlite:///"))
        if directory:
            os.makedirs(directory, exist_ok=True)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            _run(connection)
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
