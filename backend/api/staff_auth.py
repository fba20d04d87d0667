"""Staff login, logout and "who am I" (docs/STAFF.md).

The session token travels only in the `staff_session` cookie: HttpOnly (no script reads it),
SameSite=Strict (no other site's page sends it), Secure unless the demo runs on plain http,
scoped to /api/staff. The CSRF token of the same session is returned in the body for the page
to send back in `X-CSRF-Token`.
"""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from backend.api.app_state import state
from backend.api.bodies import ok, parse
from backend.api.guards import STAFF_COOKIE, staff_only
from backend.api.staff_schemas import (
    LoggedOut,
    StaffError,
    StaffIdentity,
    StaffLogin,
    StaffLoginResult,
    schema,
)
from backend.domain.roles import Action, StaffRefusal
from backend.services import auth, staff_accounts

bp = Blueprint("staff_auth", url_prefix="/api/staff")

COOKIE_PATH = "/api/staff"


def _secure(request: Request) -> bool:
    settings = state(request).settings
    return not (settings.demo_mode and settings.public_base_url.startswith("http://"))


@bp.post("/login")
@openapi.summary("Staff login: sets the session cookie, returns the CSRF token")
@openapi.body(schema(StaffLogin))
@openapi.response(200, schema(StaffLoginResult), "Logged in")
@openapi.response(401, schema(StaffError), "staff_login_failed")
async def login(request: Request) -> HTTPResponse:
    body = parse(request, StaffLogin)
    st = state(request)
    minutes = st.settings.staff_session_minutes
    now = st.clock.now()
    stored = await st.db(
        lambda db: staff_accounts.stored_password(db, body.username, now=now), write=False
    )
    try:
        staff_id = await st.run_sync(
            lambda: staff_accounts.check_password(stored, body.password)
        )
    except StaffRefusal:
        if stored is not None and not stored.locked:
            await st.db(
                lambda db: staff_accounts.record_failed_login(db, stored.staff_id, clock=st.clock)
            )
        raise
    opened = await st.db(
        lambda db: staff_accounts.open_session(
            db, staff_id, body.password, clock=st.clock, minutes=minutes
        )
    )
    response = ok(
        {
            "staff": opened["staff"],
            "csrf_token": opened["csrf_token"],
            "expires_at": opened["expires_at"],
        }
    )
    response.add_cookie(
        STAFF_COOKIE,
        opened["session_token"],
        path=COOKIE_PATH,
        max_age=minutes * 60,
        httponly=True,
        secure=_secure(request),
        samesite="Strict",
    )
    return response


@bp.post("/logout")
@openapi.summary("End this staff session (cookie or token): it is revoked at once")
@openapi.response(200, schema(LoggedOut), "Revoked")
@openapi.response(401, schema(StaffError), "staff_unauthorized")
@staff_only(Action.SELF)
async def logout(request: Request) -> HTTPResponse:
    st = state(request)
    token = str(
        auth.bearer(request.headers.get("authorization"))
        or request.cookies.get(STAFF_COOKIE, "")
    )
    await st.db(lambda db: staff_accounts.revoke(db, token, clock=st.clock))
    response = ok({"logged_out": True})
    response.delete_cookie(STAFF_COOKIE, path=COOKIE_PATH)
    return response


@bp.get("/me")
@openapi.summary("The staff account behind this session")
@openapi.response(200, schema(StaffIdentity), "The caller")
@openapi.response(401, schema(StaffError), "staff_unauthorized")
@staff_only(Action.SELF)
async def me(request: Request) -> HTTPResponse:
    return ok(request.ctx.staff.public())
