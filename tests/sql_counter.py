"""Counting the SQL statements a piece of work sends, through SQLAlchemy's engine events.

Used by the statement-budget tests (tests/integration/api/test_statement_counts.py) so an N+1
query cannot come back unnoticed, and by bench/sql_counts.py to print the counts per route.
Counts, not timings: they do not depend on how loaded the machine is.

Every statement the engine sends is counted (BEGIN/COMMIT issued by SQLAlchemy itself are not
cursor executions; the explicit `BEGIN IMMEDIATE` of the SQLite listener is, so SQLite counts
one more per transaction than PostgreSQL).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event


@dataclass
class StatementLog:
    statements: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, statement: str) -> None:
        with self._lock:
            self.statements.append(" ".join(statement.split()))

    @property
    def count(self) -> int:
        return len(self.statements)

    def summary(self) -> str:
        """The statements, numbered (the message of a failed budget)."""
        return "\n".join(f"{n:3d}. {s[:160]}" for n, s in enumerate(self.statements, 1))


@contextmanager
def count_statements(engine: Engine) -> Iterator[StatementLog]:
    """Every statement `engine` executes inside the block, whatever the thread."""
    log = StatementLog()

    def before(
        _conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool
    ) -> None:
        log.add(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield log
    finally:
        event.remove(engine, "before_cursor_execute", before)
