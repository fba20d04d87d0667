"""The staff's live view of registration night (docs/STAFF.md "Live view"): the figures once
(`GET /api/staff/live`) or as server-sent events (`GET /api/staff/live/events`), for the
`/staff` page. Help desk and coordinators; animators are refused."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from backend.api.app_state import AppState, state
from backend.api.bodies import ok
from backend.api.guards import STAFF_COOKIE, staff_only
from backend.api.staff import actor
from backend.api.staff_live_schemas import LiveView
from backend.api.staff_schemas import StaffError, schema
from backend.domain.roles import Action, StaffRefusal
from backend.services import auth, live_view, staff_accounts
from backend.services.audit import Actor

bp = Blueprint("staff_live", url_prefix="/api/staff/live")

# A comment line this often keeps proxies and the browser from closing a quiet stream.
HEARTBEAT_SECONDS = 15.0


@bp.get("")
@openapi.summary("Registration night's figures now: places, waitlists, waiting room, payments")
@openapi.response(200, schema(LiveView), "The figures")
@openapi.response(401, schema(StaffError), "staff_unauthorized")
@openapi.response(403, schema(StaffError), "staff_forbidden")
@staff_only(Action.LIVE_VIEW)
async def figures(request: Request) -> HTTPResponse:
    st = state(request)
    who = actor(request)
    view = await st.db(lambda db: live_view.snapshot(db, clock=st.clock, actor=who), write=False)
    return ok(view)


def _event(view: dict[str, Any]) -> str:
    return "event: figures\ndata: " + json.dumps(view, ensure_ascii=False) + "\n\n"


def _unchanged(a: dict[str, Any] | None, b: dict[str, Any]) -> bool:
    """The same figures (the instant they were read at aside)."""
    return a is not None and {**a, "at": None} == {**b, "at": None}


async def _read(st: AppState, token: str, kind: str) -> dict[str, Any] | None:
    """The figures if the caller's session still lets them see them, else None (the session
    was revoked or expired, the account disabled or its role changed while watching)."""

    def read(db: Any) -> dict[str, Any] | None:
        who = staff_accounts.principal(db, token, now=st.clock.now())
        if who is None or who.kind != kind:
            return None
        caller = Actor(staff_id=who.staff_id, username=who.username, role=who.role.value,
                       via="api", groups=who.groups)
        try:
            return live_view.snapshot(db, clock=st.clock, actor=caller)
        except StaffRefusal:
            return None

    return await st.db(read, write=False)


@bp.get("/events")
@openapi.summary("The same figures as server-sent events: at once, then whenever they change")
@openapi.description(
    "`text/event-stream`: an `event: figures` whose data is the `GET /api/staff/live` object, "
    "sent at once and again each time the figures change (read every few seconds); a comment "
    "line as heartbeat; `event: ended` when the session stops being valid."
)
@openapi.response(200, {"text/event-stream": str}, "The stream")
@openapi.response(401, schema(StaffError), "staff_unauthorized")
@openapi.response(403, schema(StaffError), "staff_forbidden")
@staff_only(Action.LIVE_VIEW)
async def events(request: Request) -> HTTPResponse:
    st = state(request)
    bearer_token = auth.bearer(request.headers.get("authorization"))
    token = str(bearer_token or request.cookies.get(STAFF_COOKIE, ""))
    kind = "token" if bearer_token else "cookie"
    response: HTTPResponse = await request.respond(
        content_type="text/event-stream; charset=utf-8",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
    await response.send("retry: 3000\n\n")
    last: dict[str, Any] | None = None
    beat = time.monotonic()
    # Ends when the client leaves: Sanic cancels this handler when the connection closes.
    while True:
        view = await _read(st, token, kind)
        if view is None:
            await response.send("event: ended\ndata: {}\n\n")
            break
        if not _unchanged(last, view):
            await response.send(_event(view))
            last, beat = view, time.monotonic()
        elif time.monotonic() - beat >= HEARTBEAT_SECONDS:
            await response.send(": heartbeat\n\n")
            beat = time.monotonic()
        await asyncio.sleep(st.settings.staff_live_poll_seconds)
    await response.send("", end_stream=True)
    return response
