"""Julie's registration night, route by route, with the SQL statements each request sent.

Shared by the statement budgets (test_statement_counts.py) and bench/sql_counts.py. Counts do
not depend on the machine's load; the milliseconds do and are only a hint.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from api_harness import Backend, identify
from sql_counter import StatementLog, count_statements

from backend.services.widget_token import mint_widget_token

Step = Callable[[Backend, dict[str, Any]], Awaitable[httpx.Response]]


async def walk(backend: Backend) -> list[tuple[str, StatementLog, float, int]]:
    """Julie's registration night, route by route: (route, statements, ms, status)."""
    engine = backend.app.ctx.state.engine
    ctx: dict[str, Any] = {}
    out: list[tuple[str, StatementLog, float, int]] = []

    async def step(label: str, fn: Step) -> httpx.Response:
        with count_statements(engine) as log:
            t0 = time.perf_counter()
            r = await fn(backend, ctx)
            ms = (time.perf_counter() - t0) * 1000
        out.append((label, log, ms, r.status_code))
        return r

    verified = await identify(backend, "100001", "+14185550101")
    token = verified["family_token"]
    ctx["token"] = token
    family = verified["family"]
    lea = next(c for c in family["children"] if c["first_name"] == "Léa")

    await step("POST /api/identify/start", lambda b, c: b.call(
        "POST", "/api/identify/start", json={"client_number": "100001", "phone": "+14185550101"}))
    await step("POST /api/identify/phone", lambda b, c: b.call(
        "POST", "/api/identify/phone", json={"phone": "+14185550102"}))
    widget = mint_widget_token("100001", backend.settings.widget_secret, backend.clock.now())
    await step("POST /api/identify/widget", lambda b, c: b.call(
        "POST", "/api/identify/widget", json={"widget_token": widget}))
    await step("GET /api/family", lambda b, c: b.call("GET", "/api/family", token=token))
    await step("GET /api/season", lambda b, c: b.call("GET", "/api/season", token=token))
    r = await step("GET /api/catalog", lambda b, c: b.call("GET", "/api/catalog", token=token))
    catalog = r.json()
    await step("GET /api/catalog/availability", lambda b, c: b.call(
        "GET", "/api/catalog/availability", token=token))
    await step("GET /api/catalog/eligible", lambda b, c: b.call(
        "GET", f"/api/catalog/eligible?child_id={lea['id']}", token=token))
    camp = next(p for p in catalog["programs"] if p["name"] == "Camp de jour")
    group = next(g for g in camp["groups"]
                 if g["label"] == "9-12 ans" and g["site"] == "Parc de la Rivière")
    weeks = [s["id"] for s in group["sessions"]]
    await step("GET /api/cart (empty)", lambda b, c: b.call("GET", "/api/cart", token=token))

    def add(child: int, session_ids: list[int], options: list[str]) -> Step:
        body = {"child_id": child, "session_ids": session_ids, "options": options,
                "tshirt_size": "P", "join_waitlist": True}
        return lambda b, c: b.call("POST", "/api/cart/lines", token=token, json=body)

    await step("POST /api/cart/lines (1 week)", add(lea["id"], weeks[:1], []))
    await step("GET /api/cart (1 line)", lambda b, c: b.call("GET", "/api/cart", token=token))
    await step("POST /api/cart/lines (2 weeks, garde)", add(lea["id"], weeks[1:3], ["garde"]))
    await step("POST /api/cart/lines (2 weeks, velo)", add(lea["id"], weeks[3:5], ["velo"]))
    r = await step("GET /api/cart (5 lines)", lambda b, c: b.call(
        "GET", "/api/cart", token=token))
    lines = r.json()["lines"]
    # Thomas (7 at 30 September) asks for the demo's full week: the waitlist.
    thomas = next(c for c in family["children"] if c["first_name"] == "Thomas")
    full = next(g for g in camp["groups"]
                if g["label"] == "7-8 ans" and g["site"] == "Parc des Érables")
    r = await step("POST /api/cart/lines (full week, waitlist)",
                   add(thomas["id"], [full["sessions"][0]["id"]], []))
    assert r.json()["results"][0]["outcome"] == "waitlisted", r.text
    await step("GET /api/cart (6 lines, 1 waiting)", lambda b, c: b.call(
        "GET", "/api/cart", token=token))
    await step("GET /api/checkout/terms", lambda b, c: b.call(
        "GET", "/api/checkout/terms", token=token))
    await step("PATCH /api/cart/lines/{id}", lambda b, c: b.call(
        "PATCH", f"/api/cart/lines/{lines[-1]['id']}", token=token, json={"tshirt_size": "M"}))
    await step("DELETE /api/cart/lines/{id}", lambda b, c: b.call(
        "DELETE", f"/api/cart/lines/{lines[-1]['id']}", token=token))
    r = await step("POST /api/checkout", lambda b, c: b.call(
        "POST", "/api/checkout", token=token,
        json={"installments": 1, "accept_terms": True, "idempotency_key": uuid.uuid4().hex}))
    order_id = r.json().get("order_id")
    await step("GET /api/orders/{id}", lambda b, c: b.call(
        "GET", f"/api/orders/{order_id}", token=token))
    return out


