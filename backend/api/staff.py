"""City staff (staff secret): approve accounts, change capacities, cancel, payment mode, jobs."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from backend.api.common import ok, parse, staff_only, state
from backend.api.schemas import Capacity, PaymentMode
from backend.services import staff

bp = Blueprint("staff", url_prefix="/api/staff")


@bp.post("/families/<client_number:str>/approve")
@openapi.summary("Approve a pending family file")
@staff_only
async def approve(request: Request, client_number: str) -> HTTPResponse:
    st = state(request)
    view = await st.db(lambda db: staff.approve_family(db, client_number, clock=st.clock))
    return ok(view)


@bp.patch("/sessions/<session_id:int>")
@openapi.summary("Change a session's capacity (freed places go to the waitlist)")
@openapi.body({"application/json": Capacity.model_json_schema()})
@staff_only
async def capacity(request: Request, session_id: int) -> HTTPResponse:
    body = parse(request, Capacity)
    st = state(request)
    view = await st.db(
        lambda db: staff.set_capacity(
            db,
            session_id,
            body.capacity,
            clock=st.clock,
            settings=st.settings,
            gateway=st.gateway,
        )
    )
    return ok(view)


@bp.post("/lines/<line_id:int>/cancel")
@openapi.summary("Cancel a line (a registration included); its place goes to the waitlist")
@staff_only
async def cancel(request: Request, line_id: int) -> HTTPResponse:
    st = state(request)
    view = await st.db(
        lambda db: staff.cancel_line(
            db, line_id, clock=st.clock, settings=st.settings, gateway=st.gateway
        )
    )
    return ok(view)


@bp.patch("/seasons/<season_id:int>")
@openapi.summary("Switch a season between normal and deferred payment")
@openapi.body({"application/json": PaymentMode.model_json_schema()})
@staff_only
async def payment_mode(request: Request, season_id: int) -> HTTPResponse:
    body = parse(request, PaymentMode)
    st = state(request)
    view = await st.db(
        lambda db: staff.set_payment_mode(
            db,
            season_id,
            body.payment_mode,
            clock=st.clock,
            settings=st.settings,
            gateway=st.gateway,
        )
    )
    return ok(view)


@bp.post("/jobs/run")
@openapi.summary("Run the periodic work now: expiries, offers, due installments, outbox")
@staff_only
async def run_jobs(request: Request) -> HTTPResponse:
    from backend.app import run_jobs_once

    return ok(await run_jobs_once(request.app))
