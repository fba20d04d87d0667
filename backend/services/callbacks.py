"""The help desk's line, and callback requests left outside its hours (docs/API.md, "Help
desk"). Staff list and close requests through the staff API and CLI (role checked here,
closing audited)."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.adapters.clock import Clock, from_local, to_local
from backend.db.helpdesk import CallbackRequest, CallbackStatus
from backend.db.models import Family, Person
from backend.domain import callbacks as rules
from backend.domain.errors import RegistrationError
from backend.domain.help_desk import Opening, help_desk_open, next_opening, parse_hours
from backend.domain.roles import Action, require
from backend.services import audit, phones, views
from backend.services.audit import Actor
from backend.settings import Settings


@cache
def _hours(text: str) -> dict[int, tuple[Opening, ...]]:
    return parse_hours(text)


def _next_opening_utc(settings: Settings, now: datetime) -> datetime | None:
    local = to_local(now).replace(tzinfo=None)
    opening = next_opening(local, _hours(settings.help_desk_hours))
    return None if opening is None else from_local(opening)


def status(*, clock: Clock, settings: Settings) -> dict[str, Any]:
    """`<HelpDesk>`: the line, whether a person answers now, and the next opening (naive UTC)."""
    now = clock.now()
    local = to_local(now).replace(tzinfo=None)
    return {
        "phone": settings.city_phone,
        "hours": settings.city_hours,
        "open": help_desk_open(local, _hours(settings.help_desk_hours)),
        "next_opening_at": views.iso(_next_opening_utc(settings, now)),
    }


def request_callback(
    db: Session,
    *,
    family_id: int | None,
    phone: str | None,
    topic: str,
    step: str,
    child_first_name: str | None,
    clock: Clock,
    settings: Settings,
) -> dict[str, Any]:
    """A callback request (`<Callback>`). The number called is the file's phone for an
    identified parent, else the one given (invalid_request without one). A second request
    from the same number while one is open updates it: a parent who says « oui » twice is
    called once."""
    topic, step, name = rules.summary(topic, step, child_first_name)
    family = db.get(Family, family_id) if family_id is not None else None
    number = family.phone if family is not None else phones.normalize_phone(phone or "")
    if not number:
        raise RegistrationError("invalid_request", fields={"phone": "bad_phone"})
    if family is not None and name is not None:
        known = {p.first_name for p in family.members if not p.is_adult}
        name = next((k for k in known if _folded(k) == _folded(name)), name)
    now = clock.now()
    expected = _next_opening_utc(settings, now) or now
    row = db.scalars(
        select(CallbackRequest).where(
            CallbackRequest.phone == number, CallbackRequest.status == CallbackStatus.OPEN
        )
    ).first()
    if row is None:
        row = CallbackRequest(phone=number, status=CallbackStatus.OPEN, created_at=now)
        db.add(row)
    row.family_id = family.id if family is not None else row.family_id
    row.topic, row.step, row.child_first_name = topic, step, name
    row.expected_at = expected
    db.flush()
    return _view(db, row)


def _folded(name: str) -> str:
    """« lea », « LÉA » and « Léa » name the same child."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _view(db: Session, row: CallbackRequest) -> dict[str, Any]:
    family = db.get(Family, row.family_id) if row.family_id is not None else None
    payer: Person | None = None
    if family is not None:
        payer = next((p for p in family.members if p.is_payer), None)
    return {
        "id": row.id,
        "status": row.status.value,
        "phone": row.phone,
        "topic": row.topic,
        "step": row.step,
        "child_first_name": row.child_first_name,
        "client_number": family.client_number if family is not None else None,
        "payer_name": f"{payer.first_name} {payer.last_name}" if payer else None,
        "created_at": views.iso(row.created_at),
        "expected_at": views.iso(row.expected_at),
        "closed_at": views.iso(row.closed_at),
        "closed_by": row.closed_by,
    }


def list_callbacks(
    db: Session, *, actor: Actor, include_closed: bool = False
) -> list[dict[str, Any]]:
    """Open requests, oldest first (the first to call back); with closed ones when asked."""
    require(actor.role, Action.CALLBACKS)
    query = select(CallbackRequest).order_by(CallbackRequest.id)
    if not include_closed:
        query = query.where(CallbackRequest.status == CallbackStatus.OPEN)
    return [_view(db, row) for row in db.scalars(query)]


def close_callback(db: Session, callback_id: int, *, clock: Clock, actor: Actor) -> dict[str, Any]:
    """The parent was called back: the request leaves the list (audited). Closing a closed
    request changes nothing. Raises not_found."""
    require(actor.role, Action.CALLBACKS)
    row = db.get(CallbackRequest, callback_id, with_for_update=True)
    if row is None:
        raise RegistrationError("not_found")
    if row.status is CallbackStatus.OPEN:
        row.status = CallbackStatus.CLOSED
        row.closed_at = clock.now()
        row.closed_by = actor.username
        audit.record(
            db,
            actor,
            "callback_closed",
            target_type="callback",
            target_id=row.id,
            family_id=row.family_id,
            clock=clock,
            detail={"topic": row.topic, "step": row.step},
        )
        db.flush()
    return _view(db, row)
