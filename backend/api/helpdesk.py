"""Help desk routes (service secret): the line and its hours, callback requests, and a new
family file opened by chat after a one-time code (docs/API.md, "Help desk", "New family
file")."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from backend.api.app_state import state
from backend.api.bodies import ok, parse
from backend.api.guards import optional_family, service_only
from backend.api.helpdesk_schemas import (
    Callback,
    CallbackBody,
    HelpDesk,
    SignupChallenge,
    SignupCreated,
    SignupFamily,
    SignupStart,
    SignupVerified,
    SignupVerify,
)
from backend.api.identify import client_address
from backend.api.openapi_doc import SERVICE, documented
from backend.domain.errors import RegistrationError
from backend.services import callbacks, signup

bp = Blueprint("helpdesk", url_prefix="/api")


@bp.get("/helpdesk")
@openapi.summary("The help desk's line, whether a person answers now, its next opening")
@documented(HelpDesk, refusals=(401,), auth=SERVICE)
@service_only
async def help_desk(request: Request) -> HTTPResponse:
    st = state(request)
    return ok(callbacks.status(clock=st.clock, settings=st.settings))


@bp.post("/helpdesk/callbacks")
@openapi.summary("Leave a callback request (structured summary; the file's phone when a token)")
@documented(Callback, status=201, body=CallbackBody, refusals=(401, 422), auth=SERVICE)
@service_only
async def request_callback(request: Request) -> HTTPResponse:
    body = parse(request, CallbackBody)
    family_id = await optional_family(request)
    st = state(request)
    view = await st.db(
        lambda db: callbacks.request_callback(
            db,
            family_id=family_id,
            phone=body.phone,
            topic=body.topic,
            step=body.step,
            child_first_name=body.child_first_name,
            clock=st.clock,
            settings=st.settings,
        )
    )
    return ok(view, status=201)


@bp.post("/signup/start")
@openapi.summary("Send a one-time code to the phone or courriel of a new family file")
@documented(SignupChallenge, body=SignupStart, refusals=(401, 422, 429), auth=SERVICE)
@service_only
async def signup_start(request: Request) -> HTTPResponse:
    body = parse(request, SignupStart)
    st = state(request)
    address = client_address(request)
    answer = await st.db(
        lambda db: signup.start(
            db,
            phone=body.phone,
            email=body.email,
            clock=st.clock,
            settings=st.settings,
            client_address=address,
        )
    )
    return ok(answer)


@bp.post("/signup/verify")
@openapi.summary("Check the code; a file already holding the contact is opened instead")
@documented(SignupVerified, body=SignupVerify, refusals=(401, 404, 410, 422, 423), auth=SERVICE)
@service_only
async def signup_verify(request: Request) -> HTTPResponse:
    body = parse(request, SignupVerify)
    code = "".join(body.code.split())
    st = state(request)
    outcome = await st.db(
        lambda db: signup.verify(
            db, challenge_id=body.challenge_id, code=code, clock=st.clock, settings=st.settings
        )
    )
    if isinstance(outcome, RegistrationError):
        raise outcome  # after the commit: the failed try stays counted
    return ok(outcome)


@bp.post("/signup/family")
@openapi.summary("Create the family file (pending approval) with the verified contact")
@documented(
    SignupCreated, status=201, body=SignupFamily, refusals=(401, 403, 409, 422), auth=SERVICE
)
@service_only
async def signup_family(request: Request) -> HTTPResponse:
    body = parse(request, SignupFamily)
    st = state(request)
    children = [
        signup.Child(c.first_name, c.last_name or body.last_name, c.birth_date)
        for c in body.children
    ]
    created = await st.db(
        lambda db: signup.create_family(
            db,
            challenge_id=body.challenge_id,
            first_name=body.first_name,
            last_name=body.last_name,
            address=body.address,
            phone=body.phone,
            email=body.email,
            children=children,
            clock=st.clock,
            settings=st.settings,
        )
    )
    return ok(created, status=201)
