"""The backend's Sanic application.

Database work is synchronous SQLAlchemy run on a bounded thread pool (`settings.db_workers`
threads): the pool caps how many transactions write at once, which is what keeps a hot week's
counter row fast under a registration-night rush, and the event loop never waits on the
database. Every refusal is `{"error": {"code", "message", …}}` with a French message from the
catalogs. Background tasks send the outbox and run the periodic jobs every few seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sanic import Request, Sanic
from sanic.exceptions import MethodNotAllowed, NotFound, SanicException
from sanic.response import HTTPResponse
from sanic_ext import Extend, openapi
from sanic_ext.extensions.openapi.builders import SpecificationBuilder
from sqlalchemy import text

from backend import log_privacy, wiring
from backend.adapters.chat import chat_sender_from_settings
from backend.adapters.clock import Clock, SystemClock
from backend.adapters.demo_clock import OffsetClock
from backend.adapters.email import email_sender_from_settings
from backend.adapters.gateway import PaymentGateway
from backend.adapters.ports import ChatSender, EmailSender, SmsSender
from backend.adapters.sms import sms_sender_from_settings
from backend.api import cancellation as cancellation_routes
from backend.api import cart as cart_routes
from backend.api import checkout as checkout_routes
from backend.api import facts as facts_routes
from backend.api import family as family_routes
from backend.api import health_form as health_form_routes
from backend.api import helpdesk as helpdesk_routes
from backend.api import identify as identify_routes
from backend.api import pay as pay_routes
from backend.api import rate_limit, staff_exports
from backend.api import sms as sms_routes
from backend.api import staff as staff_routes
from backend.api import staff_callbacks as staff_callback_routes
from backend.api import staff_live as staff_live_routes
from backend.api import staff_rush as staff_rush_routes
from backend.api import waiting_room as waiting_room_routes
from backend.api import webhook as webhook_routes
from backend.api.app_state import AppState, app_state, state
from backend.api.bodies import error_response, ok
from backend.api.openapi_doc import declare_security, json_schema
from backend.api.responses import Health
from backend.db.engine import make_engine, make_session_factory, run_transaction
from backend.domain.errors import RegistrationError
from backend.services import dispatch, rush_admission
from backend.settings import Settings

log = logging.getLogger(__name__)

DISPATCH_EVERY_SECONDS = 2.0
JOBS_EVERY_SECONDS = 5.0

_names = itertools.count(1)


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    gateway: PaymentGateway | None = None,
    sms: SmsSender | None = None,
    email: EmailSender | None = None,
    chat: ChatSender | None = None,
    background: bool = True,
) -> Sanic[Any, Any]:
    """Build the app. Tests inject a clock, a gateway and senders, and may turn the background
    loops off (`background=False`) to run jobs only through `POST /api/staff/jobs/run`."""
    settings = settings or Settings.from_env()
    if clock is None:
        clock = (
            OffsetClock.demo(settings.demo_clock_speed) if settings.demo_mode else SystemClock()
        )
    engine = make_engine(settings.database_url)
    if gateway is None:
        gateway = wiring.payment_gateway(settings)
    wiring.configure_branding(settings)

    # sanic-ext keeps the OpenAPI document in a process-wide singleton filled at server start;
    # start each app from an empty one, or an app without demo mode would list the demo routes
    # of an earlier app in the same process (tests; production runs one app per process).
    SpecificationBuilder.reset()  # type: ignore[no-untyped-call]

    number = next(_names)
    name = "inscriptions" if number == 1 else f"inscriptions_{number}"
    app: Sanic[Any, Any] = Sanic(name)
    app.config.FALLBACK_ERROR_FORMAT = "json"
    # TouchUp rewrites Sanic's own methods once per process; several apps in one process (tests)
    # break it, and the gain is negligible here.
    app.config.TOUCHUP = False
    app.config.OAS_UI_DEFAULT = "redoc"  # /docs (the UI itself loads from a CDN, only if opened)
    app.config.OAS_UI_SWAGGER = False
    app.config.OAS_URL_PREFIX = "/docs"
    app.config.OAS_TITLE = "Inscriptions aux activités de loisirs"
    app.config.OAS_VERSION = "1.0"
    app.config.REQUEST_MAX_SIZE = 1_000_000
    Extend(app)
    declare_security(app.ext.openapi)

    app.ctx.state = AppState(
        settings=settings,
        clock=clock,
        gateway=gateway,
        sms=sms or sms_sender_from_settings(settings),
        email=email or email_sender_from_settings(settings),
        chat=chat or chat_sender_from_settings(settings),
        engine=engine,
        session_factory=make_session_factory(engine),
        executor=ThreadPoolExecutor(
            max_workers=max(1, settings.db_workers), thread_name_prefix="db"
        ),
    )
    app.ctx.background = background
    app.ctx.tasks = []

    for module in (
        identify_routes,
        family_routes,
        cancellation_routes,
        facts_routes,
        cart_routes,
        checkout_routes,
        pay_routes,
        health_form_routes,
        webhook_routes,
        sms_routes,
        staff_routes,
        staff_exports,
        staff_rush_routes,
        waiting_room_routes,
        helpdesk_routes,
        staff_callback_routes,
        staff_live_routes,
    ):
        app.blueprint(module.bp)
    if settings.demo_mode:
        from backend.api import demo_texto, dev

        app.blueprint(dev.bp)
        app.blueprint(demo_texto.bp)
    try:  # the chat page and its static files, when present
        import importlib

        web = importlib.import_module("backend.api.web")
    except ModuleNotFoundError as missing:
        if missing.name != "backend.api.web":
            raise
        web = None
    if web is not None:
        from backend.api import staff_page

        app.blueprint(web.bp)
        app.blueprint(staff_page.bp)

    app.add_route(health, "/health", methods=["GET"], name="health")
    rate_limit.install(app, settings, clock)
    log_privacy.install()  # after Sanic set its loggers up
    _register_errors(app)
    app.register_listener(_start_background, "after_server_start")
    app.register_listener(_stop_background, "before_server_stop")
    app.register_listener(_close, "after_server_stop")
    return app


@openapi.summary("Whether the backend and its database answer")
@openapi.response(200, {"application/json": json_schema(Health)}, "OK")
@openapi.response(503, {"application/json": json_schema(Health)}, "the database does not answer")
async def health(request: Request) -> HTTPResponse:
    st = state(request)

    def ping(db: Any) -> bool:
        return bool(db.execute(text("SELECT 1")).scalar() == 1)

    try:
        database = "ok" if await st.db(ping, write=False) else "error"
    except Exception:  # noqa: BLE001 - health reports, it does not raise
        log.exception("health: database check failed")
        database = "error"
    body = {
        "status": "ok" if database == "ok" else "degraded",
        "database": database,
        "demo_mode": st.settings.demo_mode,
    }
    return ok(body, status=200 if database == "ok" else 503)


# --------------------------------------------------------------------------- errors


def _register_errors(app: Sanic[Any, Any]) -> None:
    settings = app_state(app).settings

    async def registration_error(request: Request, error: Exception) -> HTTPResponse:
        assert isinstance(error, RegistrationError)
        return error_response(settings, error.code, error.http_status, error.extra)

    async def not_found(request: Request, error: Exception) -> HTTPResponse:
        return error_response(settings, "not_found", 404)

    async def not_allowed(request: Request, error: Exception) -> HTTPResponse:
        # RFC 9110: a 405 names the methods the path does answer to. Sanic's router gives them
        # for a fixed path only; a path with a parameter is asked method by method.
        allowed = sorted(
            getattr(error, "allowed_methods", None) or _methods_of(request.app, request.path)
        )
        response = error_response(settings, "invalid_request", 405, {"allowed": allowed})
        if allowed:
            response.headers["Allow"] = ", ".join(allowed)
        return response

    async def sanic_error(request: Request, error: Exception) -> HTTPResponse:
        status = getattr(error, "status_code", 500) or 500
        if status >= 500:
            log.exception("request failed", exc_info=error)
            return error_response(settings, "internal_error", 500)
        return error_response(settings, "invalid_request", status)

    async def unexpected(request: Request, error: Exception) -> HTTPResponse:
        log.exception("unexpected error on %s %s", request.method, request.path, exc_info=error)
        return error_response(settings, "internal_error", 500)

    app.error_handler.add(RegistrationError, registration_error)
    app.error_handler.add(NotFound, not_found)
    app.error_handler.add(MethodNotAllowed, not_allowed)
    app.error_handler.add(SanicException, sanic_error)
    app.error_handler.add(Exception, unexpected)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _methods_of(app: Sanic[Any, Any], path: str) -> list[str]:
    found = []
    for method in _METHODS:
        try:
            app.router.get(path, method, None)
        except SanicException:
            continue
        found.append(method)
    return found


# --------------------------------------------------------------------------- background work


async def dispatch_outbox(app: Sanic[Any, Any]) -> int:
    st = app_state(app)
    async with st.dispatch_lock:
        return await dispatch.dispatch_pending(
            st.session_factory,
            clock=st.clock,
            sms=st.sms,
            email=st.email,
            chat=st.chat,
            run_sync=st.run_sync,
            capacity=st.settings.sending_capacity(),
        )



async def run_jobs_once(app: Sanic[Any, Any]) -> dict[str, Any]:
    """Expiries and offers, due installments (`run_due_jobs`), then the outbox."""
    from backend.jobs import run_due_jobs

    st = app_state(app)
    result: dict[str, Any] = await st.run_sync(
        lambda: run_due_jobs(
            st.session_factory, clock=st.clock, settings=st.settings, gateway=st.gateway
        )
    )
    result = dict(result or {})
    result["outbox_sent"] = await dispatch_outbox(app)
    return result


async def _loop(app: Sanic[Any, Any], every: float, work: Any, label: str) -> None:
    while True:
        try:
            await work(app)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a failing pass must not stop the loop
            log.exception("background %s failed", label)
        await asyncio.sleep(every)


async def _start_background(app: Sanic[Any, Any]) -> None:
    if not app.ctx.background:
        return
    app.ctx.tasks = [
        asyncio.create_task(_loop(app, DISPATCH_EVERY_SECONDS, dispatch_outbox, "outbox")),
        asyncio.create_task(_loop(app, JOBS_EVERY_SECONDS, _jobs_only, "jobs")),
    ]
    # The waiting room's admission loop, as a Sanic task: every worker runs one.
    every = max(0.2, app_state(app).settings.rush_admit_every_seconds)
    if _sanic_runs_the_loop(app):
        app.add_task(_loop(app, every, admit_once, "admission"), name=ADMISSION_TASK)
        app.ctx.admission_task = ADMISSION_TASK
    else:  # app.create_server (tests) gives Sanic no loop of its own to name tasks on
        app.ctx.tasks.append(asyncio.create_task(_loop(app, every, admit_once, "admission")))


def _sanic_runs_the_loop(app: Sanic[Any, Any]) -> bool:
    try:
        app.loop  # noqa: B018 - raises when the server was started with create_server
    except SanicException:
        return False
    return True


ADMISSION_TASK = "rush-admission"


async def admit_once(app: Sanic[Any, Any]) -> dict[str, int]:
    """One admission step of every open rush (services/rush_admission.py): safe on each of
    several workers at once (row locks, SKIP LOCKED)."""
    st = app_state(app)
    return await st.run_sync(
        lambda: run_transaction(
            st.session_factory,
            lambda db: rush_admission.step_all(db, clock=st.clock, settings=st.settings),
        )
    )


async def _jobs_only(app: Sanic[Any, Any]) -> None:
    from backend.jobs import run_due_jobs

    st = app_state(app)
    await st.run_sync(
        lambda: run_due_jobs(
            st.session_factory, clock=st.clock, settings=st.settings, gateway=st.gateway
        )
    )


async def _stop_background(app: Sanic[Any, Any]) -> None:
    if getattr(app.ctx, "admission_task", None):
        with contextlib.suppress(Exception):
            await app.cancel_task(ADMISSION_TASK, raise_exception=False)
        app.ctx.admission_task = None
    for task in app.ctx.tasks:
        task.cancel()
    for task in app.ctx.tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    app.ctx.tasks = []


async def _close(app: Sanic[Any, Any]) -> None:
    st = app_state(app)
    st.executor.shutdown(wait=False, cancel_futures=True)
    st.engine.dispose()
