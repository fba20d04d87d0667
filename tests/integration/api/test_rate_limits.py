"""Public routes per client address: the payment pages and the chat page answer 429
`rate_limited` past their token bucket, and a refused request changes nothing. The clock is set
by the test (ManualClock): buckets refill when it moves, never by waiting."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from api_harness import (
    START,
    Backend,
    seed_demo_data,
    seed_minimal,
    start_backend,
    stop_backend,
)
from localstripe_process import browser_confirms_setup, shared
from order_flow import checked_out

from backend.adapters.clock import ManualClock


@pytest.fixture
async def tight(database_url: str) -> AsyncIterator[Backend]:
    """Three payment pages at once, then one a second; five public pages, then one a second."""
    seed_minimal(database_url)
    running = await start_backend(
        database_url, pay_burst=3, pay_per_minute=60, public_burst=5, public_per_minute=60
    )
    try:
        yield running
    finally:
        await stop_backend(running)


@pytest.fixture
async def behind_proxy(database_url: str) -> AsyncIterator[Backend]:
    seed_minimal(database_url)
    running = await start_backend(database_url, pay_burst=2, pay_per_minute=60, proxies_count=1)
    try:
        yield running
    finally:
        await stop_backend(running)


async def _page(backend: Backend, path: str, **headers: str) -> httpx.Response:
    return await backend.http.get(path, headers=headers)


async def test_payment_pages_are_limited_per_address(tight: Backend) -> None:
    for _ in range(3):
        assert (await _page(tight, "/p/not-a-real-link")).status_code == 404
    refused = await _page(tight, "/p/another-guess")
    assert refused.status_code == 429
    assert "Trop de demandes" in refused.text and 'lang="fr-CA"' in refused.text
    assert "418 555-0199" in refused.text
    assert refused.headers["Retry-After"] == "1"
    # Without proxy settings a forwarded-for header is not believed: same address, same bucket.
    forged = await _page(tight, "/p/x", **{"X-Forwarded-For": "198.51.100.23"})
    assert forged.status_code == 429
    tight.clock.advance(timedelta(seconds=1))
    assert (await _page(tight, "/p/not-a-real-link")).status_code == 404
    assert (await _page(tight, "/p/not-a-real-link")).status_code == 429


async def test_public_pages_are_limited_but_not_the_action_server(tight: Backend) -> None:
    for _ in range(5):
        assert (await _page(tight, "/health")).status_code == 200
    refused = await _page(tight, "/health")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert "patienter" in refused.json()["error"]["message"]
    # The action server (service secret) speaks for every parent from one address: not limited
    # here (identification counts its own limits in the database).
    for _ in range(10):
        r = await tight.call("POST", "/api/identify/phone", json={"phone": "+15145550000"})
        assert r.status_code == 200
    # A wrong secret is no pass.
    r = await tight.http.get("/health", headers={"Authorization": "Bearer guess"})
    assert r.status_code == 429


async def test_behind_a_proxy_each_forwarded_address_has_its_own_bucket(
    behind_proxy: Backend,
) -> None:
    first = {"X-Forwarded-For": "203.0.113.1"}
    second = {"X-Forwarded-For": "203.0.113.2"}
    assert [(await _page(behind_proxy, "/p/x", **first)).status_code for _ in range(3)] == [
        404,
        404,
        429,
    ]
    assert (await _page(behind_proxy, "/p/x", **second)).status_code == 404


@pytest.fixture
async def city_tight(database_url: str) -> AsyncIterator[Backend]:
    clock = ManualClock(START)
    seed_demo_data(database_url, clock)
    running = await start_backend(database_url, clock=clock, pay_burst=2, pay_per_minute=1)
    try:
        yield running
    finally:
        await stop_backend(running)


async def test_a_refused_payment_form_pays_nothing(city_tight: Backend) -> None:
    token, order = await checked_out(city_tight)
    url = order["payment_url"]
    async with httpx.AsyncClient(timeout=30) as browser:
        assert (await browser.get(url)).status_code == 200
        page = await browser.get(url)
        assert page.status_code == 200
        found = re.search(r'<script type="application/json" id="config">(.*?)</script>',
                          page.text, re.S)
        assert found
        # The card goes to the provider (not limited by us); the page's POST is refused.
        status, setup = browser_confirms_setup(
            shared(), json.loads(found.group(1))["secret"], "4242424242424242"
        )
        assert status == 200, setup
        refused = await browser.post(url + "/pay", json={"setup_id": setup["id"]})
        assert refused.status_code == 429
        r = await city_tight.call("GET", f"/api/orders/{order['order_id']}", token=token)
        assert r.json()["status"] == "awaiting_payment" and r.json()["paid_cents"] == 0
        city_tight.clock.advance(timedelta(minutes=1))
        paid = await browser.post(url + "/pay", json={"setup_id": setup["id"]})
        assert paid.status_code == 200 and paid.json()["status"] == "paid", paid.text
    r = await city_tight.call("GET", f"/api/orders/{order['order_id']}", token=token)
    assert r.json()["status"] == "paid"
