"""Identification routes (service secret): one-time code, SMS sender's number, widget token.

Start and resend answer only `{"challenge_id"}`: whether the client number and phone matched,
and where a code went, is never told (docs/API.md, "Identification")."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from backend.api.app_state import state
from backend.api.bodies import invalid, ok, parse
from backend.api.guards import service_only
from backend.api.openapi_doc import SERVICE, documented
from backend.api.responses import Challenge, PhoneMatch, Verified
from backend.api.schemas import (
    IdentifyPhone,
    IdentifyResend,
    IdentifyStart,
    IdentifyVerify,
    IdentifyWidget,
)
from backend.domain.errors import RegistrationError
from backend.i18n import field_message
from backend.services import identification, phones

bp = Blueprint("identify", url_prefix="/api/identify")


@bp.post("/start")
@openapi.summary("Send a one-time code to the phone (or courriel) on file")
@documented(Challenge, body=IdentifyStart, refusals=(401, 409, 422), auth=SERVICE)
@service_only
async def start(request: Request) -> HTTPResponse:
    body = parse(request, IdentifyStart)
    if phones.normalize_phone(body.phone) is None:
        raise invalid({"phone": field_message("bad_phone")})
    st = state(request)
    address = client_address(request)
    answer = await st.db(
        lambda db: identification.start(
            db,
            client_number=body.client_number,
            phone=body.phone,
            clock=st.clock,
            settings=st.settings,
            client_address=address,
        )
    )
    return ok(answer)


def client_address(request: Request) -> str | None:
    """The parent's address as the action server saw it (`X-Client-Address`). Only the holder
    of the service secret reaches these routes, so only it can name an address; anything too
    long to be an address is ignored rather than trusted."""
    given = (request.headers.get("x-client-address") or "").strip()
    return given if 0 < len(given) <= 100 else None


@bp.post("/verify")
@openapi.summary("Check the one-time code; returns the family session token")
@documented(Verified, body=IdentifyVerify, refusals=(401, 404, 409, 410, 422, 423), auth=SERVICE)
@service_only
async def verify(request: Request) -> HTTPResponse:
    body = parse(request, IdentifyVerify)
    code = "".join(body.code.split())
    st = state(request)
    outcome = await st.db(
        lambda db: identification.verify(
            db, challenge_id=body.challenge_id, code=code, clock=st.clock, settings=st.settings
        )
    )
    if isinstance(outcome, RegistrationError):
        raise outcome  # after the commit: the failed try stays counted
    return ok({"family_token": outcome.family_token, "family": outcome.family})


@bp.post("/resend")
@openapi.summary("Send a new code for the same challenge (at most 3 times)")
@documented(
    Challenge, body=IdentifyResend, refusals=(401, 404, 409, 410, 422, 423, 429), auth=SERVICE
)
@service_only
async def resend(request: Request) -> HTTPResponse:
    body = parse(request, IdentifyResend)
    st = state(request)
    answer = await st.db(
        lambda db: identification.resend(
            db, challenge_id=body.challenge_id, clock=st.clock, settings=st.settings
        )
    )
    return ok(answer)


@bp.post("/phone")
@openapi.summary("SMS channel: the sender's number names one family file, several or none")
@documented(PhoneMatch, body=IdentifyPhone, refusals=(401, 409, 422), auth=SERVICE)
@service_only
async def phone(request: Request) -> HTTPResponse:
    body = parse(request, IdentifyPhone)
    st = state(request)
    answer = await st.db(
        lambda db: identification.by_phone(
            db, phone=body.phone, clock=st.clock, settings=st.settings
        )
    )
    return ok(answer)


@bp.post("/widget")
@openapi.summary("Web chat: exchange the city site's signed widget token for a family token")
@documented(Verified, body=IdentifyWidget, refusals=(401, 409, 422), auth=SERVICE)
@service_only
async def widget(request: Request) -> HTTPResponse:
    body = parse(request, IdentifyWidget)
    st = state(request)
    try:
        from backend.services.widget_token import verify_widget_token

        client_number = verify_widget_token(
            body.widget_token, st.settings.widget_secret, st.clock.now()
        )
    except Exception:  # noqa: BLE001 - forged, expired, malformed: all the same to the caller
        raise RegistrationError("unauthorized") from None
    verified = await st.db(
        lambda db: identification.by_client_number(
            db, client_number=client_number, via="widget", clock=st.clock, settings=st.settings
        )
    )
    if verified is None:
        raise RegistrationError("unauthorized")
    return ok({"family_token": verified.family_token, "family": verified.family})
