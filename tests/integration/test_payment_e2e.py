"""A paid order end to end at a set clock, through a running backend.

Checkout in two installments with consent, the hosted page paid with a test card by a real
HTTP POST, the gateway's signed webhook delivered over HTTP and replayed twice (same event id):
50 % is captured exactly once, the lines are confirmed and a confirmation waits in the outbox.
A month later the job charges the rest; with a card whose later charges are declined the
second installment fails and the payer gets an "installment_failed" message with a link, which
works (4000 0000 0000 0002 is refused on it, 4242 pays).
"""

from __future__ import annotations

import re
import sys
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent / "api"))

from api_harness import (  # noqa: E402
    Backend,
    camp_sessions,
    database_url,  # noqa: F401 - fixture (SQLite and PostgreSQL)
    identify,
    seed_demo_data,
    start_backend,
    stop_backend,
)

from backend.adapters.clock import ManualClock, from_local  # noqa: E402
from backend.adapters.local_gateway import LocalGateway  # noqa: E402
from backend.db.engine import make_engine  # noqa: E402
from backend.settings import Settings  # noqa: E402

OPENING_NIGHT = from_local(datetime(2027, 4, 20, 19, 0))


class RecordingGateway(LocalGateway):
    """The local gateway, keeping what it delivered so the test can replay it."""

    delivered: list[tuple[bytes, dict[str, str]]]


def _gateway(settings: Settings, clock: ManualClock) -> LocalGateway:
    delivered: list[tuple[bytes, dict[str, str]]] = []

    async def deliver(body: bytes, headers: dict[str, str]) -> int:
        delivered.append((body, headers))
        async with httpx.AsyncClient(timeout=10) as client:
            r = await client.post(
                f"{settings.public_base_url}/api/gateway/webhook", content=body, headers=headers
            )
            return r.status_code

    gateway = RecordingGateway(
        secret=settings.link_secret,
        webhook_secret=settings.gateway_webhook_secret,
        webhook_url=f"{settings.public_base_url}/api/gateway/webhook",
        clock=clock,
        deliver=deliver,
    )
    gateway.delivered = delivered
    return gateway


@pytest.fixture
async def city(database_url: str) -> AsyncIterator[Backend]:  # noqa: F811
    clock = ManualClock(OPENING_NIGHT)
    seed_demo_data(database_url, clock)
    running = await start_backend(database_url, clock=clock, gateway_factory=_gateway)
    try:
        yield running
    finally:
        await stop_backend(running)


def _rows(backend: Backend, sql: str, **params: Any) -> list[Any]:
    engine = make_engine(backend.settings.database_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql), params))
    finally:
        engine.dispose()


def _outbox(backend: Backend, client_number: str, kind: str) -> list[Any]:
    return _rows(
        backend,
        "SELECT n.channel, n.recipient, n.subject, n.body FROM notification n "
        "JOIN family f ON f.id = n.family_id WHERE f.client_number = :c AND n.kind = :k "
        "ORDER BY n.id",
        c=client_number,
        k=kind,
    )


async def _order_in_two(
    city: Backend, client_number: str, phone: str, site: str, group: str, weeks: list[int]
) -> tuple[dict[str, Any], dict[str, Any]]:
    me = await identify(city, client_number, phone)
    token = me["family_token"]
    child = me["family"]["children"][0]
    sessions = await camp_sessions(city, site, group)
    r = await city.call(
        "POST",
        "/api/cart/lines",
        token=token,
        json={
            "child_id": child["id"],
            "session_ids": [sessions[w] for w in weeks],
            "tshirt_size": "M",
        },
    )
    assert r.status_code == 200, r.text
    assert [x["outcome"] for x in r.json()["results"]] == ["held"] * len(weeks)
    r = await city.call("GET", "/api/checkout/terms", token=token)
    assert r.status_code == 200 and r.json()["allowed"] == [1, 2], r.text
    r = await city.call(
        "POST",
        "/api/checkout",
        token=token,
        json={
            "installments": 2,
            "accept_terms": True,
            "card_on_file_consent": True,
            "idempotency_key": f"order-{client_number}",
        },
    )
    assert r.status_code == 201, r.text
    return me, r.json()


async def _pay(city: Backend, url: str, number: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as browser:
        page = await browser.get(url)
        assert page.status_code == 200, page.text
        assert 'for="number"' in page.text and 'lang="fr-CA"' in page.text
        return await browser.post(url, data={"number": number, "expiry": "12/29", "cvc": "123"})


async def test_karim_pays_half_now_and_the_rest_a_month_later(city: Backend) -> None:
    me, order = await _order_in_two(
        city, "100004", "581-555-0104", "Parc de la Rivière", "7-8 ans", [2, 3]
    )
    token = me["family_token"]
    assert order["total_cents"] == 28000  # non-resident: 2 × 140,00 $
    assert [i["amount_cents"] for i in order["installments"]] == [14000, 14000]
    assert order["payment_url"].startswith(city.base_url + "/p/")
    assert _outbox(city, "100004", "payment_link"), "the link is also sent"

    page = await _pay(city, order["payment_url"], "4242 4242 4242 4242")
    assert page.status_code == 200, page.text
    assert "Paiement reçu" in page.text and "140,00" in page.text

    gateway: Any = city.app.ctx.state.gateway
    [(body, headers)] = gateway.delivered
    assert b"4242424242424242" not in body  # a token and last4, never the card number
    # The webhook replayed twice, as is: nothing changes.
    async with httpx.AsyncClient(timeout=10) as client:
        for _ in range(2):
            r = await client.post(
                f"{city.base_url}/api/gateway/webhook", content=body, headers=headers
            )
            assert r.status_code == 200, r.text
        forged = dict(headers, **{"X-Gateway-Signature": "t=1,v1=00"})
        r = await client.post(f"{city.base_url}/api/gateway/webhook", content=body, headers=forged)
        assert r.status_code == 401

    r = await city.call("GET", f"/api/orders/{order['order_id']}", token=token)
    view = r.json()
    assert view["status"] == "partially_paid", view
    assert view["paid_cents"] == 14000 and view["due_cents"] == 14000
    assert [i["status"] for i in view["installments"]] == ["paid", "scheduled"]
    assert {line["status"] for line in view["lines"]} == {"confirmed"}
    paid = _rows(
        city,
        "SELECT i.amount_cents FROM installment i WHERE i.order_id = :o AND i.status = 'paid'",
        o=order["order_id"],
    )
    assert [p[0] for p in paid] == [14000]  # captured exactly once
    confirmations = _outbox(city, "100004", "confirmation")
    assert confirmations, "a confirmation waits in the outbox"
    texts = "\n".join(c.body for c in confirmations)
    assert "140,00" in texts and "fiche santé" in texts

    # One month later, the job charges the saved card for the rest.
    city.clock.set(from_local(datetime(2027, 5, 20, 9, 0)))
    r = await city.http.post("/api/staff/jobs/run", headers=city.staff_headers())
    assert r.status_code == 200, r.text
    token = (await identify(city, "100004", "581-555-0104"))["family_token"]  # a month later
    r = await city.call("GET", f"/api/orders/{order['order_id']}", token=token)
    view = r.json()
    assert view["status"] == "paid" and view["paid_cents"] == 28000 and view["due_cents"] == 0
    # Running the job again charges nothing more.
    await city.http.post("/api/staff/jobs/run", headers=city.staff_headers())
    r = await city.call("GET", f"/api/orders/{order['order_id']}", token=token)
    assert r.json()["paid_cents"] == 28000


async def test_declined_second_installment_sends_a_link_that_works(city: Backend) -> None:
    me, order = await _order_in_two(
        city, "100001", "418-555-0101", "Parc de la Rivière", "9-12 ans", [2, 3]
    )
    token = me["family_token"]
    assert [i["amount_cents"] for i in order["installments"]] == [9500, 9500]

    refused = await _pay(city, order["payment_url"], "4000 0000 0000 0002")
    assert refused.status_code == 402 and "refusée" in refused.text
    r = await city.call("GET", f"/api/orders/{order['order_id']}", token=token)
    assert r.json()["paid_cents"] == 0
    # A card accepted now whose later charges are declined (gateway test card).
    page = await _pay(city, order["payment_url"], "4000 0000 0000 0341")
    assert page.status_code == 200 and "Paiement reçu" in page.text

    city.clock.set(from_local(datetime(2027, 5, 20, 9, 0)))
    r = await city.http.post("/api/staff/jobs/run", headers=city.staff_headers())
    assert r.status_code == 200, r.text
    token = (await identify(city, "100001", "418-555-0101"))["family_token"]  # a month later
    r = await city.call("GET", f"/api/orders/{order['order_id']}", token=token)
    view = r.json()
    assert [i["status"] for i in view["installments"]] == ["paid", "failed"]
    assert view["due_cents"] == 9500

    [sms, *_rest] = _outbox(city, "100001", "installment_failed")
    assert "95,00 $" in sms.body
    link = re.search(r"https?://\S+/p/\S+", sms.body)
    assert link, sms.body
    url = link.group(0)
    assert url.startswith(city.base_url)

    again = await _pay(city, url, "4000 0000 0000 0002")
    assert again.status_code == 402
    ok = await _pay(city, url, "4242 4242 4242 4242")
    assert ok.status_code == 200 and "95,00" in ok.text
    r = await city.call("GET", f"/api/orders/{order['order_id']}", token=token)
    view = r.json()
    assert view["status"] == "paid" and view["paid_cents"] == 19000, view


async def test_expired_link_page_is_clear(city: Backend) -> None:
    _me, order = await _order_in_two(
        city, "100002", "418-555-0102", "Parc de la Rivière", "9-12 ans", [4, 5]
    )
    city.clock.advance(__import__("datetime").timedelta(minutes=31))
    async with httpx.AsyncClient(timeout=10) as browser:
        page = await browser.get(order["payment_url"])
        assert page.status_code == 410
        assert "expiré" in page.text and "418 555-0199" in page.text
        r = await browser.post(order["payment_url"], data={"number": "4242424242424242"})
        assert r.status_code == 410
        unknown = await browser.get(f"{city.base_url}/p/inconnu")
        assert unknown.status_code == 404 and 'lang="fr-CA"' in unknown.text
