"""What the texts and courriels about a family's registrations say, and their queueing."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from backend.adapters.clock import Clock
from backend.db.models import Family, Line
from backend.services import outbox
from backend.services.views import line_dict


def notify(
    db: Session, *, clock: Clock, family: Family, kind: str, params: dict[str, Any]
) -> None:
    # Through the module attribute so the outbox implementation can evolve independently.
    outbox.enqueue(db, clock=clock, family=family, kind=kind, params=params)


def message_line(db: Session, line: Line) -> dict[str, Any]:
    """What a message says about a line (no health data, ever)."""
    d = line_dict(db, line)
    keys = ("child", "program", "group", "site", "week", "starts_on", "ends_on", "options")
    return {k: d[k] for k in keys} | {"price_cents": d["price_cents"]}
