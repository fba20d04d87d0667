"""Bad and forged input on every route of the OpenAPI document, staff routes included (a
deterministic table; test_schemathesis.py generates the rest from the document): never a
500, always `{"error": {"code", "message"}}` with a code of docs/API.md and its French
sentence, and a refusal changes nothing in the database. Forged and replayed gateway
webhooks, another family's token, absurd dates, huge numbers, emojis, confusable digits,
SQL-looking text, deep JSON and broken UTF-8 included."""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import stripe
from api_harness import (
    Backend,
    identify,
    seed_demo_data,
    start_backend,
    stop_backend,
)
from sqlalchemy import MetaData, select

from backend.adapters.clock import ManualClock
from backend.db.engine import make_engine
from backend.domain.errors import HTTP_STATUS as PARENT_STATUS
from backend.domain.roles import STAFF_HTTP_STATUS
from backend.i18n import _ERROR_MESSAGES
from tests.integration.api.api_harness import START

NASTY_TEXT = [
    "",
    " ",
    "😀👨‍👩‍👧",
    "1ОО001",  # Cyrillic О: looks like 100001
    "１００００１",  # full-width digits
    "'; DROP TABLE family; --",
    "1 OR 1=1",
    "%00",
    "\u0000",
    "\u202e1010",  # right-to-left override
    "<script>alert(1)</script>",
    "é" * 5000,
    "2027-02-30",
    "9999-12-31T23:59:59",
    "-1",
    "NaN",
]
NASTY_NUMBERS: list[Any] = [0, -1, -(2**63), 2**31, 10**30, 1.5, True, None, "1", [], {}]
NASTY_BODIES: list[bytes] = [
    b"",
    b"null",
    b"[]",
    b'"texte"',
    b"{",
    b"\xff\xfe\xfa",  # not UTF-8
    b'{"a": NaN, "b": Infinity, "c": 1e999}',
    b"[" * 5000 + b"]" * 5000,  # deeper than the JSON parser's recursion
    b"{}",
]
FIELDS = [
    "client_number", "phone", "challenge_id", "code", "widget_token", "child_id", "session_ids",
    "options", "tshirt_size", "join_waitlist", "installments", "accept_terms",
    "card_on_file_consent", "idempotency_key", "capacity", "payment_mode", "now",
    "advance_minutes",
]

SIGNATURE_HEADER = "Stripe-Signature"


def sign_payload(body: bytes, secret: str, timestamp: int) -> str:
    """Stripe's scheme, computed by its library."""
    return stripe.WebhookSignature.generate_signature_header(body.decode(), secret, timestamp)


def _bodies() -> list[bytes]:
    bodies = list(NASTY_BODIES)
    for value in [*NASTY_TEXT[:12], *NASTY_NUMBERS]:
        bodies.append(json.dumps({f: value for f in FIELDS}).encode())
    bodies.append(json.dumps({"child_id": 1, "session_ids": [-1, 0, 10**12]}).encode())
    bodies.append(json.dumps({"child_id": 10**30, "session_ids": list(range(1000))}).encode())
    bodies.append(json.dumps({"now": "2027-02-30T10:00:00"}).encode())
    bodies.append(json.dumps({"now": "9999-12-31T23:59:59"}).encode())
    bodies.append(json.dumps({"advance_minutes": 10**12}).encode())
    bodies.append(json.dumps({"installments": 3, "accept_terms": "oui"}).encode())
    bodies.append(json.dumps({"capacity": -5}).encode())
    return bodies


HTTP_STATUS = {**PARENT_STATUS, **STAFF_HTTP_STATUS}
PATH_VALUES = ["%00", "0", "-1", "99999999999999999999", "abc", "%F0%9F%98%80", "1%27%20OR%201=1",
               "..%2F..%2Fetc%2Fpasswd", "1.5"]


@pytest.fixture
async def fuzz_city(database_url: str) -> AsyncIterator[Backend]:
    clock = ManualClock(START)
    seed_demo_data(database_url, clock)
    running = await start_backend(database_url, clock=clock, demo_mode=True)
    try:
        yield running
    finally:
        _forget(database_url)  # before the PostgreSQL database is dropped
        await stop_backend(running)


_ENGINES: dict[str, tuple[Any, MetaData]] = {}


def _snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (the engine and reflected schema are kept between calls)."""
    if url not in _ENGINES:
        engine = make_engine(url)
        meta = MetaData()
        meta.reflect(engine)
        _ENGINES[url] = (engine, meta)
    engine, meta = _ENGINES[url]
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for name, table in sorted(meta.tables.items()):
            if name == "alembic_version":
                continue
            rows = conn.execute(select(table)).all()
            out[name] = sorted((tuple(r) for r in rows), key=repr)
    return out


def _forget(url: str) -> None:
    engine, _meta = _ENGINES.pop(url, (None, None))
    if engine is not None:
        engine.dispose()


def _check_error(response: httpx.Response, where: str) -> None:
    assert response.status_code < 500, f"{where}: {response.status_code} {response.text[:300]}"
    if response.status_code < 400:
        return
    body = response.json()
    code = body["error"]["code"]
    message = body["error"]["message"]
    assert code in HTTP_STATUS, f"{where}: unknown code {code}"
    assert isinstance(message, str) and message, where
    # The French sentence of that code (its fixed beginning, before any placeholder).
    template = _ERROR_MESSAGES[code].split("%(")[0][:20]
    if code not in ("installments_not_allowed", "code_invalid"):
        assert message.startswith(template), f"{where}: {message!r}"


def _routes(doc: dict[str, Any]) -> list[tuple[str, str]]:
    routes = []
    for path, ops in doc["paths"].items():
        for method in ops:
            if method.upper() in ("GET", "POST", "PATCH", "DELETE", "PUT"):
                routes.append((method.upper(), path))
    return routes


def _fill(path: str, value: str) -> str:
    return re.sub(r"\{[^}]+\}", value, path)


def _html_route(path: str) -> bool:
    return path in ("/", "/staff") or path.startswith(("/p/", "/sante/", "/static"))


# An event stream answered with the right credential never ends by itself: its refusals are
# walked here, the stream itself in test_staff_live.py.
STREAMS = frozenset({"/api/staff/live/events"})


async def test_no_route_breaks_or_changes_anything_on_bad_input(fuzz_city: Backend) -> None:
    b = fuzz_city
    julie = (await identify(b, "100001", "418-555-0101"))["family_token"]
    marc = (await identify(b, "100002", "418-555-0102"))["family_token"]
    r = await b.call("GET", "/docs/openapi.json")
    assert r.status_code == 200
    routes = _routes(r.json())
    paths = {p for _m, p in routes}
    # Every family of routes is covered by the document.
    for expected in ("/api/cart/lines", "/api/checkout", "/api/staff/jobs/run",
                     "/api/gateway/webhook", "/api/identify/start", "/api/dev/clock"):
        assert expected in paths, f"{expected} missing from the OpenAPI document"

    service = {"Authorization": "Bearer test-service-secret"}
    staff = b.staff_headers()
    wrong_auths: list[dict[str, Any]] = [
        {},
        {"Authorization": "Bearer faux"},
        {**service, "X-Family-Token": ("😀" * 3).encode()},
    ]
    bodies = _bodies()
    before = _snapshot(b.settings.database_url)
    checked = 0

    async def send(method: str, url: str, headers: dict[str, Any], body: bytes | None) -> None:
        nonlocal before, checked
        query = "?child_id=-1&phone=%F0%9F%98%80&limit=99999999999&recipient=%00"
        response = await b.http.request(
            method, url + query if method == "GET" else url,
            content=body, headers={"Content-Type": "application/json", **headers},
        )
        where = f"{method} {url} {headers.get('Authorization', '-')} {body!r:.60}"
        _check_error(response, where)
        checked += 1
        after = _snapshot(b.settings.database_url)
        if response.status_code >= 400:
            changed = {
                t for t in after if after[t] != before.get(t)
                # a wrong one-time code counts as a try: that is the protection
                and not (t == "identity_challenge" and "/identify/" in url)
            }
            assert not changed, f"{where}: refused but changed {changed}"
        before = after

    for method, path in routes:
        if _html_route(path) or path.startswith("/docs") or path == "/health":
            continue
        right = (
            staff if path.startswith("/api/staff")
            else {**service, "X-Family-Token": julie}
        )
        concrete = [_fill(path, v) for v in PATH_VALUES] if "{" in path else [path]
        for headers in wrong_auths:  # refused before the body is even read
            await send(method, concrete[0], headers, bodies[-1])
        if path in ("/api/staff/logout", "/api/family/session/revoke"):
            continue  # it would end the session the rest of the walk uses
        if path in STREAMS:
            continue
        for url in concrete:
            for body in ([None] if method in ("GET", "DELETE") else bodies[:3]):
                await send(method, url, right, body)
        if "{" not in path and method not in ("GET", "DELETE"):
            for body in bodies[3:]:
                await send(method, path, right, body)
    assert checked > 300

    # The hosted payment page (HTML for a browser): bad tokens and forms, never a 500.
    for value in PATH_VALUES + ["A" * 5000]:
        for method, form in (("GET", None), ("POST", b"number=%00&expiry=99%2F9999&cvc=%F0")):
            r = await b.http.request(method, f"/p/{value}", content=form,
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
            assert r.status_code < 500, f"{method} /p/{value[:20]}: {r.status_code}"
    assert _snapshot(b.settings.database_url) == before

    # The fiche santé page (HTML too): a bad token or form is refused in French, never a 500.
    for value in PATH_VALUES + ["A" * 5000, "h1.1.1.1." + "a" * 40]:
        for method, form in (("GET", None), ("POST", b"contact_phone=%00&x=" + b"y" * 40000)):
            r = await b.http.request(method, f"/sante/{value}", content=form,
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
            assert r.status_code < 500, f"{method} /sante/{value[:20]}: {r.status_code}"
            if r.status_code in (404, 410):
                assert "fiche santé" in r.text, f"{method} /sante/{value[:20]}"
    assert _snapshot(b.settings.database_url) == before

    # Another family's token reaches nothing of Julie's.
    children = (await b.call("GET", "/api/family", token=julie)).json()["children"]
    lea = next(c["id"] for c in children if c["first_name"] == "Léa")
    catalog = (await b.call("GET", "/api/catalog")).json()
    group = next(g for p in catalog["programs"] for g in p["groups"]
                 if g["label"] == "9-12 ans" and g["site"] == "Parc de la Rivière")
    week = group["sessions"][1]["id"]
    added = await b.call("POST", "/api/cart/lines", token=julie,
                         json={"child_id": lea, "session_ids": [week]})
    assert added.status_code == 200, added.text
    line_id = added.json()["results"][0]["line_id"]
    before = _snapshot(b.settings.database_url)
    for method, url, body in [
        ("DELETE", f"/api/cart/lines/{line_id}", None),
        ("PATCH", f"/api/cart/lines/{line_id}", {"options": ["garde"]}),
        ("POST", "/api/cart/lines", {"child_id": lea, "session_ids": [week]}),
        ("GET", f"/api/catalog/eligible?child_id={lea}", None),
    ]:
        r = await b.call(method, url, token=marc, json=body)
        assert r.status_code == 404, r.text
        _check_error(r, f"marc {method} {url}")
    assert _snapshot(b.settings.database_url) == before


async def test_forged_and_replayed_webhooks_are_refused(fuzz_city: Backend) -> None:
    b = fuzz_city
    event = {"id": "evt_forged", "type": "payment_intent.succeeded", "created": 1,
             "data": {"object": {"id": "pi_x", "amount": 9500, "status": "succeeded",
                                 "metadata": {}}}}
    body = json.dumps(event).encode()
    t = int(time.time())  # Stripe's tolerance is checked against wall time
    secret = b.settings.stripe_webhook_secret
    good = sign_payload(body, secret, t)
    cases = [
        ("no signature", body, {}),
        ("wrong secret", body, {SIGNATURE_HEADER: sign_payload(body, "pas-le-bon", t)}),
        ("stale", body, {SIGNATURE_HEADER: sign_payload(body, secret, t - 3600)}),
        ("changed body", body.replace(b"9500", b"1"), {SIGNATURE_HEADER: good}),
        ("garbage header", body, {SIGNATURE_HEADER: "t=abc,v1=😀".encode()}),
    ]
    before = _snapshot(b.settings.database_url)
    for name, content, headers in cases:
        r = await b.http.post("/api/gateway/webhook", content=content,
                              headers={"Content-Type": "application/json", **headers})
        assert r.status_code == 401, name
        _check_error(r, name)
    assert _snapshot(b.settings.database_url) == before
    # Well signed but not an event we can read: refused in French, nothing recorded.
    for content in (b"[]", b"{}", b"pas du json",
                    b'{"id": "e1", "type": "payment_intent.succeeded", "data": {}}',
                    b'{"id": "e2", "type": "payment_intent.succeeded", "data": {"object": '
                    b'{"id": "pi_y", "amount": "beaucoup"}}}'):
        signed = sign_payload(content, secret, t)
        r = await b.http.post("/api/gateway/webhook", content=content,
                              headers={"Content-Type": "application/json",
                                       SIGNATURE_HEADER: signed})
        _check_error(r, content.decode())
        assert r.status_code == 422, r.text
    assert _snapshot(b.settings.database_url) == before
