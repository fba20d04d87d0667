"""Test harness: a real backend on a free loopback port, SQLite and PostgreSQL, a set clock.

The server runs inside the test's event loop (Sanic's low-level server API); database work
runs on the app's thread pool, so the loop stays free to serve the test's own HTTP client.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from localstripe_process import shared
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from backend.adapters.clock import ManualClock, from_local
from backend.app import create_app
from backend.db.base import Base
from backend.db.engine import make_engine, make_session_factory, transaction
from backend.db.models import AccountStatus, Family, Person
from backend.settings import Settings

SERVICE = "test-service-secret"
STAFF_PASSWORD = "mot-de-passe-du-personnel"
START = from_local(datetime(2027, 4, 20, 19, 0))

PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_admin_url() -> str:
    return (
        make_url(PG_URL).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    )


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'api.db'}"
        return
    name = f"t_api_{uuid.uuid4().hex[:12]}"
    try:
        admin = create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001
        if os.environ.get("REQUIRE_POSTGRES"):
            raise
        pytest.skip(f"PostgreSQL unavailable: {error}")
    url = make_url(_pg_admin_url()).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class Recorder:
    def __init__(self) -> None:
        self.sent: list[dict[str, str]] = []

    async def send(self, **kwargs: str) -> str:
        self.sent.append(kwargs)
        return f"rec-{len(self.sent)}"


def add_family(
    db: Any,
    client_number: str,
    phone: str,
    *,
    status: AccountStatus = AccountStatus.APPROVED,
    email: str | None = None,
    can_text: bool = True,
    children: tuple[tuple[str, date], ...] = (),
) -> Family:
    family = Family(
        client_number=client_number,
        phone=phone,
        phone_can_text=can_text,
        email=email,
        address="",
        resident=True,
        status=status,
        created_at=START,
    )
    family.members.append(
        Person(
            first_name="Parent",
            last_name=client_number,
            birth_date=date(1985, 1, 1),
            is_adult=True,
            is_payer=True,
        )
    )
    for first, born in children:
        family.members.append(
            Person(first_name=first, last_name="Enfant", birth_date=born, is_adult=False)
        )
    db.add(family)
    db.flush()
    return family


def add_staff(
    url: str,
    username: str,
    role: str,
    *,
    clock: ManualClock,
    groups: tuple[int, ...] = (),
    password: str = STAFF_PASSWORD,
) -> str:
    """A staff account (through the service the CLI uses) and a bearer token for it."""
    from backend.services import staff_accounts

    engine = make_engine(url)
    try:
        with transaction(make_session_factory(engine)) as db:
            staff_accounts.create_account(
                db, username, password, role, groups=groups, clock=clock
            )
            return str(staff_accounts.issue_token(db, username, clock=clock, days=30)["token"])
    finally:
        engine.dispose()


def seed_minimal(url: str) -> None:
    """Four families like the demo's (no catalog): enough for identification and auth."""
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    factory = make_session_factory(engine)
    with transaction(factory) as db:
        add_family(
            db,
            "100001",
            "+14185550101",
            email="julie.tremblay@example.com",
            children=(("Léa", date(2018, 5, 14)), ("Thomas", date(2020, 4, 3))),
        )
        add_family(db, "100002", "+14185550102", children=(("Emma", date(2016, 9, 10)),))
        add_family(
            db,
            "100003",
            "+14185550103",
            status=AccountStatus.PENDING,
            children=(("Noah", date(2020, 7, 1)),),
        )
        add_family(db, "100004", "+15815550104", email="karim@example.com", can_text=False)
        # Two files sharing one phone (separated parents, say).
        add_family(db, "100005", "+14185550199")
        add_family(db, "100006", "+14185550199")
    engine.dispose()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Backend:
    base_url: str
    clock: ManualClock
    settings: Settings
    sms: Recorder
    email: Recorder
    app: Any
    http: httpx.AsyncClient = field(init=False)
    staff_tokens: dict[str, str] = field(default_factory=dict)

    def staff_headers(
        self, role: str = "coordinator", groups: tuple[int, ...] = ()
    ) -> dict[str, str]:
        """`Authorization` for a staff account of that role (created once per backend), with
        a bearer token as a programmatic client would have."""
        key = f"{role}:{','.join(map(str, groups))}"
        if key not in self.staff_tokens:
            username = f"{role}-{len(self.staff_tokens) + 1}"
            self.staff_tokens[key] = add_staff(
                self.settings.database_url, username, role, clock=self.clock, groups=groups
            )
        return {"Authorization": f"Bearer {self.staff_tokens[key]}"}

    def headers(self, family_token: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {SERVICE}"}
        if family_token:
            headers["X-Family-Token"] = family_token
        return headers

    async def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        auth: bool = True,
        **kwargs: Any,
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if auth:
            headers = {**self.headers(token), **headers}
        return await self.http.request(method, path, headers=headers, **kwargs)


async def start_backend(
    url: str,
    *,
    demo_mode: bool = False,
    clock: ManualClock | None = None,
    port: int | None = None,
    gateway_factory: Any = None,
    access_log: bool = False,
    background: bool = False,
    **settings: Any,
) -> Backend:
    port = port or free_port()
    base_url = f"http://127.0.0.1:{port}"
    # The payment page opens a card setup at Stripe: the test run's localstripe stands in.
    settings.setdefault("stripe_api_base", shared().base)
    settings.setdefault("stripe_js_url", f"{settings['stripe_api_base']}/js.stripe.com/v3/")
    config = Settings(
        database_url=url,
        demo_mode=demo_mode,
        public_base_url=base_url,
        service_secret=SERVICE,
        **settings,
    )
    clock = clock or ManualClock(START)
    sms, email = Recorder(), Recorder()
    gateway = gateway_factory(config, clock) if gateway_factory else None
    app = create_app(
        config, clock=clock, sms=sms, email=email, gateway=gateway, background=background
    )
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=access_log
    )
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    app.ctx.test_server = server
    backend = Backend(base_url, clock, config, sms, email, app)
    backend.http = httpx.AsyncClient(base_url=base_url, timeout=30.0)
    return backend


async def stop_backend(backend: Backend) -> None:
    await backend.http.aclose()
    server = backend.app.ctx.test_server
    await server.before_stop()
    await server.close()
    await server.after_stop()


@pytest.fixture
async def backend(database_url: str) -> AsyncIterator[Backend]:
    seed_minimal(database_url)
    running = await start_backend(database_url)
    try:
        yield running
    finally:
        await stop_backend(running)


@pytest.fixture
async def demo_backend(database_url: str) -> AsyncIterator[Backend]:
    seed_minimal(database_url)
    running = await start_backend(database_url, demo_mode=True)
    try:
        yield running
    finally:
        await stop_backend(running)


def last_code(backend: Backend, to: str) -> str:
    """The 6-digit code from the newest message to `to` in the outbox (via the database)."""
    import re

    engine = make_engine(backend.settings.database_url)
    try:
        with engine.connect() as conn:
            body = conn.execute(
                text(
                    "SELECT body FROM notification WHERE recipient = :to AND kind = 'otp' "
                    "ORDER BY id DESC LIMIT 1"
                ),
                {"to": to},
            ).scalar_one()
    finally:
        engine.dispose()
    match = re.search(r"\b(\d{6})\b", body)
    assert match, body
    return match.group(1)


def seed_demo_data(url: str, clock: ManualClock) -> None:
    """The demo city (migrations and seed): catalog, season and the four demo families."""
    from backend.demo import migrate, seed_demo

    migrate(url)
    engine = make_engine(url)
    with transaction(make_session_factory(engine)) as db:
        seed_demo(db, clock=clock)
    engine.dispose()


@pytest.fixture
async def city(database_url: str) -> AsyncIterator[Backend]:
    """A backend over the demo city's data, at 2027-04-20 19:00 (city time)."""
    clock = ManualClock(START)
    seed_demo_data(database_url, clock)
    running = await start_backend(database_url, clock=clock)
    try:
        yield running
    finally:
        await stop_backend(running)


async def identify(backend: Backend, client_number: str, phone: str) -> dict[str, Any]:
    """The whole one-time-code flow; returns the verify answer (family_token, family)."""
    r = await backend.call(
        "POST", "/api/identify/start", json={"client_number": client_number, "phone": phone}
    )
    assert r.status_code == 200, r.text
    challenge = r.json()
    code = last_code(backend, _recipient(backend, client_number))
    r = await backend.call(
        "POST",
        "/api/identify/verify",
        json={"challenge_id": challenge["challenge_id"], "code": code},
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def _recipient(backend: Backend, client_number: str) -> str:
    """Where the family's newest code went (the answer to start no longer says)."""
    engine = make_engine(backend.settings.database_url)
    try:
        with engine.connect() as conn:
            recipient = conn.execute(
                text(
                    "SELECT n.recipient FROM notification n JOIN family f ON f.id = n.family_id "
                    "WHERE f.client_number = :c AND n.kind = 'otp' ORDER BY n.id DESC LIMIT 1"
                ),
                {"c": client_number},
            ).scalar_one()
    finally:
        engine.dispose()
    return str(recipient)


async def camp_sessions(backend: Backend, site: str, group: str) -> dict[int, int]:
    """Week number -> session id for a day-camp group at a site, from the live catalog."""
    r = await backend.call("GET", "/api/catalog")
    assert r.status_code == 200, r.text
    for program in r.json()["programs"]:
        if program["category"] != "camp_de_jour":
            continue
        for g in program["groups"]:
            if g["site"] == site and g["label"] == group:
                return {s["number"]: s["id"] for s in g["sessions"]}
    raise AssertionError(f"no camp group {group} at {site}")
