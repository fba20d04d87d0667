"""Who may call a route: the service secret, a family token, or a staff account with its role
(docs/API.md "Authentication", docs/STAFF.md)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from functools import wraps
from typing import Any

from sanic import Request
from sanic.response import HTTPResponse

from backend.api.app_state import state
from backend.domain.errors import RegistrationError
from backend.domain.roles import Action, StaffRefusal, require
from backend.services import auth, staff_accounts

# --------------------------------------------------------------------------- guards

Handler = Callable[..., Awaitable[HTTPResponse]]

MAX_ID = 2**31 - 1  # ids are 32-bit integers in both databases


def _check_ids(kwargs: Mapping[str, Any]) -> None:
    """An id in the path that no row can have (0, negative, beyond 32 bits; text with a NUL or
    longer than any key) is simply not found: it must not reach the database (SQLite cannot
    even bind a number that large)."""
    for value in kwargs.values():
        if isinstance(value, int) and not isinstance(value, bool) and not 1 <= value <= MAX_ID:
            raise RegistrationError("not_found")
        if isinstance(value, str) and ("\x00" in value or len(value) > 64):
            raise RegistrationError("not_found")  # PostgreSQL cannot even compare a NUL


def service_only(handler: Handler) -> Handler:
    """The action server and the bot channels: `Authorization: Bearer <SERVICE_SECRET>`."""

    @wraps(handler)
    async def wrapper(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
        given = auth.bearer(request.headers.get("authorization"))
        if not auth.secret_matches(given, state(request).settings.service_secret):
            raise RegistrationError("unauthorized")
        _check_ids(kwargs)
        return await handler(request, *args, **kwargs)

    return wrapper


def family_only(handler: Handler) -> Handler:
    """The service secret and a family token: `request.ctx.family_id` is set."""

    @wraps(handler)
    async def wrapper(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
        st = state(request)
        given = auth.bearer(request.headers.get("authorization"))
        if not auth.secret_matches(given, st.settings.service_secret):
            raise RegistrationError("unauthorized")
        family_id = await st.family_for_token(request.headers.get("x-family-token"))
        if family_id is None:
            raise RegistrationError("unauthorized")
        request.ctx.family_id = family_id
        _check_ids(kwargs)
        return await handler(request, *args, **kwargs)

    return wrapper


async def optional_family(request: Request) -> int | None:
    """A family token is optional on some routes; when given it must be valid."""
    token = request.headers.get("x-family-token")
    if not token:
        return None
    family_id = await state(request).family_for_token(token)
    if family_id is None:
        raise RegistrationError("unauthorized")
    return family_id


STAFF_COOKIE = "staff_session"
CSRF_HEADER = "x-csrf-token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def staff_only(action: Action) -> Callable[[Handler], Handler]:
    """City staff (docs/STAFF.md): a browser's session cookie, or `Authorization: Bearer
    <staff token>` for a programmatic client; the service secret opens nothing here. A change
    made with the cookie must send the session's CSRF token in `X-CSRF-Token`. The caller's
    role must allow `action`. `request.ctx.staff` is the caller (`StaffPrincipal`).
    Refusals are staff codes (401 staff_unauthorized, 403 staff_csrf / staff_forbidden), never
    the parents' "session no longer active"."""

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        async def wrapper(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            st = state(request)
            bearer_token = auth.bearer(request.headers.get("authorization"))
            token = bearer_token or request.cookies.get(STAFF_COOKIE)
            kind = "token" if bearer_token else "cookie"
            who = None
            if token and len(token) <= staff_accounts.MAX_TOKEN_LENGTH:
                now = st.clock.now()
                who = await st.db(
                    lambda db: staff_accounts.principal(db, token, now=now), write=False
                )
            if who is None or who.kind != kind:
                raise StaffRefusal("staff_unauthorized")
            if (
                kind == "cookie"
                and request.method not in _SAFE_METHODS
                and not who.csrf_matches(request.headers.get(CSRF_HEADER))
            ):
                raise StaffRefusal("staff_csrf")
            require(who.role, action)
            request.ctx.staff = who
            _check_ids(kwargs)
            return await handler(request, *args, **kwargs)

        return wrapper

    return decorate
