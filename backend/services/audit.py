"""The audit log: who did what to money or personal data, and when (backend clock).

`record` is called by the staff services inside the action's own transaction, so an action and
its row commit or roll back together. Details are small and structured; callers never pass
health data, contact details or credentials (`record` refuses keys that would carry them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.adapters.clock import Clock
from backend.db.access import AuditEntry

_FORBIDDEN_KEYS = frozenset(
    {"allergies", "medication", "health", "phone", "email", "address", "password", "token", "code"}
)
MAX_LIMIT = 500


@dataclass(frozen=True)
class Actor:
    """Who acts: a staff account (through the API or the CLI)."""

    staff_id: int | None
    username: str
    role: str  # backend.domain.roles.Role: the services check it themselves
    via: str  # "api", "cli"
    groups: tuple[int, ...] = ()  # an animator's assigned groups


def record(
    db: Session,
    actor: Actor,
    action: str,
    *,
    target_type: str,
    target_id: object,
    clock: Clock,
    family_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    detail = dict(detail or {})
    leaked = _FORBIDDEN_KEYS & set(detail)
    if leaked:
        raise ValueError(f"audit detail must not carry {sorted(leaked)}")
    entry = AuditEntry(
        at=clock.now(),
        staff_id=actor.staff_id,
        actor=actor.username,
        via=actor.via,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        family_id=family_id,
        detail=json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str),
    )
    db.add(entry)
    db.flush()
    return entry


def entry_dict(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": entry.at.isoformat(),
        "actor": entry.actor,
        "via": entry.via,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "family_id": entry.family_id,
        "detail": json.loads(entry.detail or "{}"),
    }


def entries(
    db: Session,
    *,
    limit: int = 100,
    action: str | None = None,
    family_id: int | None = None,
    before_id: int | None = None,
) -> list[dict[str, Any]]:
    """Newest first; `before_id` pages back."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc())
    if action:
        query = query.where(AuditEntry.action == action)
    if family_id is not None:
        query = query.where(AuditEntry.family_id == family_id)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    rows = db.scalars(query.limit(max(1, min(limit, MAX_LIMIT)))).all()
    return [entry_dict(e) for e in rows]
