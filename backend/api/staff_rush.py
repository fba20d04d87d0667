"""Staff routes of registration night (coordinator; docs/STAFF.md "Waiting room"): open a
rush, pause, resume, close it, change rate and cap while it runs, see it, run an admission step
now, and in demo mode fill the line with simulated families. Audited by the services."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from backend.api.app_state import state
from backend.api.bodies import ok, parse
from backend.api.guards import staff_only
from backend.api.staff import actor
from backend.api.staff_schemas import StaffError, schema
from backend.api.waiting_room_schemas import OpenRush, RushLimits, RushStatus, Simulate
from backend.domain.roles import Action
from backend.services import rush_staff

bp = Blueprint("staff_rush", url_prefix="/api/staff/rushes")


@bp.post("")
@openapi.summary("Open a rush window for a season: from opens_at, families must be admitted")
@openapi.body({"application/json": OpenRush.model_json_schema()})
@openapi.response(201, schema(RushStatus), "The rush")
@openapi.response(403, schema(StaffError), "staff_forbidden")
@staff_only(Action.RUSH)
async def open_rush(request: Request) -> HTTPResponse:
    body = parse(request, OpenRush)
    st = state(request)
    who = actor(request)
    view = await st.db(
        lambda db: rush_staff.open_rush(
            db,
            body.season_id,
            opens_at=body.opens_at_utc(),
            rate_per_minute=body.rate_per_minute,
            cap=body.cap,
            clock=st.clock,
            actor=who,
        )
    )
    return ok(view, status=201)


@bp.get("/<rush_id:int>")
@openapi.summary("Where a rush stands: waiting, registering, admitted per minute, wait")
@openapi.response(200, schema(RushStatus), "The rush")
@staff_only(Action.RUSH)
async def show(request: Request, rush_id: int) -> HTTPResponse:
    st = state(request)
    who = actor(request)
    view = await st.db(
        lambda db: rush_staff.status(db, rush_id, clock=st.clock, actor=who), write=False
    )
    return ok(view)


@bp.patch("/<rush_id:int>")
@openapi.summary("Change the rate (families per minute) and/or the cap while the rush runs")
@openapi.body({"application/json": RushLimits.model_json_schema()})
@openapi.response(200, schema(RushStatus), "The rush")
@staff_only(Action.RUSH)
async def limits(request: Request, rush_id: int) -> HTTPResponse:
    body = parse(request, RushLimits)
    st = state(request)
    who = actor(request)
    view = await st.db(
        lambda db: rush_staff.set_limits(
            db,
            rush_id,
            rate_per_minute=body.rate_per_minute,
            cap=body.cap,
            clock=st.clock,
            actor=who,
        )
    )
    return ok(view)


async def _move(request: Request, rush_id: int, how: str) -> HTTPResponse:
    st = state(request)
    who = actor(request)
    view = await st.db(lambda db: rush_staff.move(db, rush_id, how, clock=st.clock, actor=who))
    return ok(view)


@bp.post("/<rush_id:int>/pause")
@openapi.summary("Pause admissions (families keep their places; admission still required)")
@openapi.response(200, schema(RushStatus), "The rush")
@staff_only(Action.RUSH)
async def pause(request: Request, rush_id: int) -> HTTPResponse:
    return await _move(request, rush_id, "pause")


@bp.post("/<rush_id:int>/resume")
@openapi.summary("Resume admissions after a pause")
@openapi.response(200, schema(RushStatus), "The rush")
@staff_only(Action.RUSH)
async def resume(request: Request, rush_id: int) -> HTTPResponse:
    return await _move(request, rush_id, "resume")


@bp.post("/<rush_id:int>/close")
@openapi.summary("Close the rush: every family registers directly again")
@openapi.response(200, schema(RushStatus), "The rush")
@staff_only(Action.RUSH)
async def close(request: Request, rush_id: int) -> HTTPResponse:
    return await _move(request, rush_id, "close")


@bp.post("/<rush_id:int>/admit")
@openapi.summary("Run one admission step now (the workers run one every few seconds)")
@staff_only(Action.RUSH)
async def admit(request: Request, rush_id: int) -> HTTPResponse:
    st = state(request)
    who = actor(request)
    view = await st.db(
        lambda db: rush_staff.admit_now(
            db, rush_id, clock=st.clock, settings=st.settings, actor=who
        )
    )
    return ok(view)


@bp.post("/<rush_id:int>/simulate")
@openapi.summary("Demo mode: simulated families join the line")
@openapi.body({"application/json": Simulate.model_json_schema()})
@openapi.response(200, schema(RushStatus), "The rush")
@staff_only(Action.RUSH)
async def simulate(request: Request, rush_id: int) -> HTTPResponse:
    body = parse(request, Simulate)
    st = state(request)
    who = actor(request)
    view = await st.db(
        lambda db: rush_staff.simulate(
            db, rush_id, body.families, clock=st.clock, settings=st.settings, actor=who
        )
    )
    return ok(view)
