"""Demo mode only (DEMO_MODE=1): the outbox and the clock. Not registered at all otherwise."""

from __future__ import annotations

from datetime import UTC, timedelta

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi
from sqlalchemy import select

from backend.adapters.clock import from_local, to_local
from backend.api.app_state import state
from backend.api.bodies import invalid, ok, parse, parse_query
from backend.api.openapi_doc import documented
from backend.api.responses import ClockView, OutboxMessage
from backend.api.schemas import OutboxQuery, SetClock
from backend.db.notifications import Notification
from backend.i18n import field_message
from backend.services import phones

bp = Blueprint("dev", url_prefix="/api/dev")


@bp.get("/outbox")
@openapi.summary("Demo: the messages the backend wrote (codes, links, confirmations)")
@documented(OutboxMessage, list_of=True, query=OutboxQuery, refusals=(422,))
async def get_outbox(request: Request) -> HTTPResponse:
    query = parse_query(request, OutboxQuery)
    st = state(request)
    recipient = query.recipient
    if recipient and "@" not in recipient:
        recipient = phones.normalize_phone(recipient) or recipient

    def read(db: object) -> list[dict[str, object]]:
        from sqlalchemy.orm import Session

        assert isinstance(db, Session)
        stmt = select(Notification).order_by(Notification.id.desc()).limit(query.limit)
        if recipient:
            stmt = stmt.where(Notification.recipient == recipient)
        return [
            {
                "id": n.id,
                "channel": n.channel.value,
                "recipient": n.recipient,
                "subject": n.subject,
                "body": n.body,
                "kind": n.kind,
                "status": n.status.value,
                "created_at": n.created_at.isoformat(),
            }
            for n in db.scalars(stmt)
        ]

    return ok(await st.db(read, write=False))


def _clock_view(request: Request) -> dict[str, str]:
    now = state(request).clock.now()
    return {"now": to_local(now).replace(tzinfo=None).isoformat(), "utc": now.isoformat()}


@bp.get("/clock")
@openapi.summary("Demo: the backend's clock (city time and UTC)")
@documented(ClockView)
async def get_clock(request: Request) -> HTTPResponse:
    return ok(_clock_view(request))


@bp.post("/clock")
@openapi.summary("Demo: set the clock (`now`, city time) or move it (`advance_minutes`)")
@documented(ClockView, body=SetClock, refusals=(422,))
async def set_clock(request: Request) -> HTTPResponse:
    body = parse(request, SetClock)
    clock = state(request).clock
    setter = getattr(clock, "set", None)
    advancer = getattr(clock, "advance", None)
    if body.now is not None and setter is not None:
        instant = body.now
        # Checked before converting: 9999-12-31 23:59 plus the time-zone offset overflows.
        if not 2000 <= instant.year <= 2100:
            raise invalid({"now": field_message("bad_date")})
        if instant.tzinfo is not None:
            instant = instant.astimezone(UTC).replace(tzinfo=None)
        else:
            instant = from_local(instant)
        setter(instant)
    elif body.advance_minutes is not None and advancer is not None:
        moved = clock.now() + timedelta(minutes=body.advance_minutes)
        if not 2000 <= moved.year <= 2100:
            raise invalid({"advance_minutes": field_message("bad_date")})
        advancer(timedelta(minutes=body.advance_minutes))
    else:
        raise invalid({"now": field_message("missing")})
    return ok(_clock_view(request))
