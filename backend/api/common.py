"""What every route module shares: the app's state, database calls off the event loop, request
parsing with French validation errors, and the error responses of docs/API.md."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial, wraps
from typing import Any, TypeVar, cast

from pydantic import BaseModel, ValidationError
from sanic import Request, Sanic
from sanic.response import HTTPResponse
from sanic.response import json as json_response
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from backend.adapters.clock import Clock
from backend.adapters.gateway import PaymentGateway
from backend.adapters.ports import EmailSender, SmsSender
from backend.db.engine import TransactionConflict, run_transaction
from backend.domain.errors import RegistrationError
from backend.domain.roles import Action, StaffRefusal, require
from backend.i18n import error_message, field_message
from backend.services import auth, refund_sender, staff_accounts
from backend.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")
U = TypeVar("U")
M = TypeVar("M", bound=BaseModel)


@dataclass
class AppState:
    settings: Settings
    clock: Clock
    gateway: PaymentGateway
    sms: SmsSender
    email: EmailSender
    engine: Engine
    session_factory: sessionmaker[Session]
    executor: ThreadPoolExecutor
    dispatch_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    tokens: auth.TokenCache = field(default_factory=auth.TokenCache)

    async def family_for_token(self, token: str | None) -> int | None:
        """The family of a valid family token, or None; from memory once seen (TokenCache)."""
        if not token or len(token) > 64:
            return None
        now = self.clock.now()
        known = self.tokens.family(token, now)
        if known is not None:
            return known
        found = await self.db(lambda db: auth.token_session(db, token), write=False)
        if found is None:
            return None
        family_id, expires_at = found
        self.tokens.remember(token, family_id, expires_at)
        return family_id if expires_at > now else None

    def _in_transaction(self, fn: Callable[[Session], T], write: bool) -> T:
        # A transaction PostgreSQL aborts (deadlock, serialization failure) is run again here,
        # transparently; only when every attempt failed does the caller hear `conflict`.
        try:
            return run_transaction(self.session_factory, fn, write=write)
        except TransactionConflict:
            raise RegistrationError("conflict") from None

    async def db(self, fn: Callable[[Session], T], *, write: bool = True) -> T:
        """Run `fn(db)` in one transaction on the bounded database thread pool."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, partial(self._in_transaction, fn, write))

    async def db_then_read(
        self, fn: Callable[[Session], T], read: Callable[[Session], U]
    ) -> tuple[T, U]:
        """`fn` in a write transaction, then, once it is committed, `read` in a read
        transaction: one trip to the thread pool. For a write whose answer also shows a view
        (the cart after an add) that need not be read while the write's locks are held."""

        def both() -> tuple[T, U]:
            first = self._in_transaction(fn, True)
            return first, self._in_transaction(read, False)

        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, both)

    async def send_refunds(self) -> dict[str, int]:
        """After a write that may have recorded refunds (cancellations, payments): ask the
        provider for them, outside any transaction (`backend.services.refund_sender`)."""
        return await self.run_sync(
            lambda: refund_sender.send_pending(
                self.session_factory, gateway=self.gateway, clock=self.clock
            )
        )

    async def run_sync(self, fn: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, fn)


def state(request: Request) -> AppState:
    return cast(AppState, request.app.ctx.state)


def app_state(app: Sanic[Any, Any]) -> AppState:
    return cast(AppState, app.ctx.state)


# --------------------------------------------------------------------------- errors


def jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return value


def error_response(
    settings: Settings, code: str, status: int, extra: Mapping[str, Any] | None = None
) -> HTTPResponse:
    extra = dict(extra or {})
    fields = extra.get("fields")
    if isinstance(fields, Mapping):
        # Services may name a problem with a word ("required"); the parent reads a sentence.
        extra["fields"] = {
            str(name): field_message(_FIELD_WORDS.get(str(problem), "invalid"))
            if " " not in str(problem)
            else str(problem)
            for name, problem in fields.items()
        }
    message = error_message(
        code, extra, city_phone=settings.city_phone, city_hours=settings.city_hours
    )
    body = {"error": {"code": code, "message": message, **jsonable(extra)}}
    return json_response(body, status=status, ensure_ascii=False)


_FIELD_WORDS = {
    "required": "missing",
    "missing": "missing",
    "too_long": "too_long",
    "bad_date": "bad_date",
    "bad_phone": "bad_phone",
    "bad_number": "bad_number",
}


def invalid(fields: Mapping[str, str]) -> RegistrationError:
    return RegistrationError("invalid_request", fields=dict(fields))


# --------------------------------------------------------------------------- parsing

_FIELD_KINDS = {
    "missing": "missing",
    "string_too_long": "too_long",
    "int_parsing": "bad_number",
    "int_type": "bad_number",
    "int_from_float": "bad_number",
    "date_parsing": "bad_date",
    "date_from_datetime_parsing": "bad_date",
    "datetime_parsing": "bad_date",
    "datetime_from_date_parsing": "bad_date",
    "date_type": "bad_date",
    "datetime_type": "bad_date",
}


def _fields(error: ValidationError) -> dict[str, str]:
    fields: dict[str, str] = {}
    for item in error.errors():
        name = ".".join(str(p) for p in item["loc"]) or "body"
        fields.setdefault(name, field_message(_FIELD_KINDS.get(item["type"], "invalid")))
    return fields


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def loads(raw: bytes) -> Any:
    """Strict JSON: NaN and Infinity refused, nesting deeper than the parser can go refused
    (RecursionError), never a 500. Raises ValueError."""
    try:
        return json.loads(raw, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def parse_json(request: Request) -> dict[str, Any]:
    try:
        data = loads(request.body or b"")
    except (ValueError, UnicodeDecodeError):
        raise invalid({"body": field_message("not_json")}) from None
    if not isinstance(data, dict):
        raise invalid({"body": field_message("not_json")})
    return data


def parse(request: Request, model: type[M]) -> M:
    data = parse_json(request)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise invalid(_fields(error)) from None


def parse_query(request: Request, model: type[M]) -> M:
    data = {key: request.args.get(key) for key in request.args}
    try:
        # a query string is text: "5" is the number 5 there, whatever the model's strictness
        return model.model_validate(data, strict=False)
    except ValidationError as error:
        raise invalid(_fields(error)) from None


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, set | frozenset):
        return list(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


def dumps(body: Any) -> str:
    """JSON text of a service's answer. Services already give ISO strings for nearly every
    date: the encoder converts what is left as it meets it instead of copying the whole
    answer first (`jsonable`, kept for the odd key that is not a string)."""
    try:
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=_json_default)
    except TypeError:
        return json.dumps(jsonable(body), ensure_ascii=False, separators=(",", ":"))


def ok(body: Any, status: int = 200) -> HTTPResponse:
    return HTTPResponse(dumps(body), status=status, content_type="application/json")


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
