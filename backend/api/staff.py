"""City staff routes (docs/API.md "Staff", roles in docs/STAFF.md): approve accounts, read a
family's file, change capacities, cancel, payment mode, jobs, the audit log, group rosters.

Each route names the action it needs (`staff_only`); the services check the caller's role
again and write the audit rows, so the CLI cannot do more than the API."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from backend.api import staff_auth
from backend.api.common import ok, parse, parse_query, staff_only, state
from backend.api.schemas import Capacity, PaymentMode
from backend.api.staff_schemas import AuditList, AuditQuery, FamilyFile, Roster, StaffError, schema
from backend.domain.roles import Action
from backend.services import audit, staff
from backend.services.audit import Actor
from backend.services.staff_accounts import StaffPrincipal

_routes = Blueprint("staff", url_prefix="/api/staff")
bp = Blueprint.group(_routes, staff_auth.bp)


def actor(request: Request) -> Actor:
    who: StaffPrincipal = request.ctx.staff
    return Actor(
        staff_id=who.staff_id,
        username=who.username,
        role=who.role.value,
        via="api",
        groups=who.groups,
    )


@_routes.post("/families/<client_number:str>/approve")
@openapi.summary("Approve a pending family file (help desk, coordinator; audited)")
@openapi.response(403, schema(StaffError), "staff_forbidden")
@staff_only(Action.APPROVE)
async def approve(request: Request, client_number: str) -> HTTPResponse:
    st = state(request)
    who = actor(request)
    view = await st.db(
        lambda db: staff.approve_family(db, client_number, clock=st.clock, actor=who)
    )
    return ok(view)


@_routes.get("/families/<client_number:str>")
@openapi.summary("A family's file, cart and orders, without health data (help desk, coordinator)")
@openapi.response(200, schema(FamilyFile), "The file")
@openapi.response(403, schema(StaffError), "staff_forbidden")
@staff_only(Action.READ_FAMILY)
async def family_file(request: Request, client_number: str) -> HTTPResponse:
    st = state(request)
    who = actor(request)
    view = await st.db(
        lambda db: staff.family_file(
            db, client_number, clock=st.clock, settings=st.settings, actor=who
        ),
        write=False,
    )
    return ok(view)


@_routes.patch("/sessions/<session_id:int>")
@openapi.summary("Change a session's capacity; freed places go to the waitlist (coordinator)")
@openapi.body({"application/json": Capacity.model_json_schema()})
@openapi.response(403, schema(StaffError), "staff_forbidden")
@staff_only(Action.CAPACITY)
async def capacity(request: Request, session_id: int) -> HTTPResponse:
    body = parse(request, Capacity)
    st = state(request)
    who = actor(request)
    view = await st.db(
        lambda db: staff.set_capacity(
            db,
            session_id,
            body.capacity,
            clock=st.clock,
            settings=st.settings,
            gateway=st.gateway,
            actor=who,
        )
    )
    return ok(view)


@_routes.post("/lines/<line_id:int>/cancel")
@openapi.summary(
    "Cancel a line; its place goes to the waitlist (help desk: unpaid lines; coordinator: "
    "paid registrations too, refunded)"
)
@openapi.response(403, schema(StaffError), "staff_forbidden")
@staff_only(Action.CANCEL_UNPAID)
async def cancel(request: Request, line_id: int) -> HTTPResponse:
    st = state(request)
    who = actor(request)
    view = await st.db(
        lambda db: staff.cancel_line(
            db, line_id, clock=st.clock, settings=st.settings, gateway=st.gateway, actor=who
        )
    )
    await st.send_refunds()
    return ok(view)


@_routes.patch("/seasons/<season_id:int>")
@openapi.summary("Switch a season between normal and deferred payment (coordinator)")
@openapi.body({"application/json": PaymentMode.model_json_schema()})
@openapi.response(403, schema(StaffError), "staff_forbidden")
@staff_only(Action.PAYMENT_MODE)
async def payment_mode(request: Request, season_id: int) -> HTTPResponse:
    body = parse(request, PaymentMode)
    st = state(request)
    who = actor(request)
    view = await st.db(
        lambda db: staff.set_payment_mode(
            db,
            season_id,
            body.payment_mode,
            clock=st.clock,
            settings=st.settings,
            gateway=st.gateway,
            actor=who,
        )
    )
    return ok(view)


@_routes.post("/jobs/run")
@openapi.summary("Run the periodic work now: expiries, offers, installments, outbox (coordinator)")
@openapi.response(403, schema(StaffError), "staff_forbidden")
@staff_only(Action.RUN_JOBS)
async def run_jobs(request: Request) -> HTTPResponse:
    from backend.app import run_jobs_once

    return ok(await run_jobs_once(request.app))


@_routes.get("/audit")
@openapi.summary("The audit log, newest first (coordinator)")
@openapi.parameter("limit", int, "query")
@openapi.parameter("action", str, "query")
@openapi.parameter("family_id", int, "query")
@openapi.parameter("before_id", int, "query")
@openapi.response(200, schema(AuditList), "Entries")
@openapi.response(403, schema(StaffError), "staff_forbidden")
@staff_only(Action.READ_AUDIT)
async def audit_log(request: Request) -> HTTPResponse:
    query = parse_query(request, AuditQuery)
    st = state(request)
    rows = await st.db(
        lambda db: audit.entries(
            db,
            limit=query.limit,
            action=query.action,
            family_id=query.family_id,
            before_id=query.before_id,
        ),
        write=False,
    )
    return ok({"entries": rows})


@_routes.get("/groups/<group_id:int>/children")
@openapi.summary("The children registered in a group, health records included (its animators)")
@openapi.response(200, schema(Roster), "The roster")
@openapi.response(403, schema(StaffError), "staff_forbidden")
@staff_only(Action.READ_ROSTER)
async def roster(request: Request, group_id: int) -> HTTPResponse:
    st = state(request)
    who = actor(request)
    view = await st.db(lambda db: staff.group_roster(db, group_id, actor=who), write=False)
    return ok(view)
