"""Staff routes for callback requests (help desk, coordinator): the list to call back, and
closing one once the parent was called (audited)."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from backend.api.app_state import state
from backend.api.bodies import ok, parse_query
from backend.api.guards import staff_only
from backend.api.helpdesk_schemas import Callback, CallbackQuery
from backend.api.staff import actor
from backend.api.staff_schemas import StaffError, schema
from backend.domain.roles import Action
from backend.services import callbacks

bp = Blueprint("staff_callbacks", url_prefix="/api/staff")


@bp.get("/callbacks")
@openapi.summary("Callback requests still to make, oldest first (help desk, coordinator)")
@openapi.response(
    200,
    {"application/json": {"type": "array", "items": schema(Callback)["application/json"]}},
    "The requests",
)
@openapi.response(403, schema(StaffError), "staff_forbidden")
@staff_only(Action.CALLBACKS)
async def list_callbacks(request: Request) -> HTTPResponse:
    query = parse_query(request, CallbackQuery)
    st = state(request)
    who = actor(request)
    rows = await st.db(
        lambda db: callbacks.list_callbacks(db, actor=who, include_closed=query.include_closed),
        write=False,
    )
    return ok(rows)


@bp.post("/callbacks/<callback_id:int>/close")
@openapi.summary("The parent was called back: close the request (audited)")
@openapi.response(200, schema(Callback), "The closed request")
@openapi.response(403, schema(StaffError), "staff_forbidden")
@staff_only(Action.CALLBACKS)
async def close_callback(request: Request, callback_id: int) -> HTTPResponse:
    st = state(request)
    who = actor(request)
    view = await st.db(
        lambda db: callbacks.close_callback(db, callback_id, clock=st.clock, actor=who)
    )
    return ok(view)
