"""The hosted payment page in a real browser (headless Debian Chromium, Playwright): a demo
order paid through localstripe's Stripe.js stand-in, the card typed in the provider's field.

Servers: the real backend (in this process, on its own event loop, SQLite, demo data, at a set
clock) and a real localstripe process on 127.0.0.1, whose signed webhook reaches the backend.

    .venv/bin/python -m pytest tests/browser/test_pay_page.py
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration" / "api"))

from api_harness import (  # noqa: E402
    Backend,
    camp_sessions,
    identify,
    seed_demo_data,
    start_backend,
    stop_backend,
)
from localstripe_process import shared  # noqa: E402
from served import CHROMIUM, CHROMIUM_ARGS, ServingLoop  # noqa: E402

from backend.adapters.clock import ManualClock, from_local  # noqa: E402
from backend.db.engine import make_engine  # noqa: E402

pytestmark = pytest.mark.browser
WEBHOOK_SECRET = "whsec_browser_localstripe"


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServingLoop, Backend]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('pay') / 'pay.db'}"
    clock = ManualClock(from_local(datetime(2027, 4, 20, 19, 0)))
    seed_demo_data(url, clock)
    server = shared()
    loop = ServingLoop()
    backend = loop.run(
        start_backend(
            url,
            clock=clock,
            stripe_api_base=server.base,
            stripe_js_url=f"{server.base}/js.stripe.com/v3/",
            stripe_webhook_secret=WEBHOOK_SECRET,
        )
    )
    server.register_webhook(f"{backend.base_url}/api/gateway/webhook", WEBHOOK_SECRET)
    try:
        yield loop, backend
    finally:
        loop.run(stop_backend(backend))
        loop.close()


async def _order(city: Backend) -> dict[str, Any]:
    me = await identify(city, "100001", "418-555-0101")
    token = me["family_token"]
    sessions = await camp_sessions(city, "Parc de la Rivière", "9-12 ans")
    r = await city.call(
        "POST",
        "/api/cart/lines",
        token=token,
        json={
            "child_id": me["family"]["children"][0]["id"],
            "session_ids": [sessions[2]],
            "tshirt_size": "M",
        },
    )
    assert r.status_code == 200, r.text
    r = await city.call(
        "POST",
        "/api/checkout",
        token=token,
        json={
            "installments": 1,
            "accept_terms": True,
            "card_on_file_consent": False,
            "idempotency_key": "browser-order",
        },
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def _order_status(backend: Backend, order_id: int) -> str:
    engine = make_engine(backend.settings.database_url)
    try:
        with engine.connect() as conn:
            return str(
                conn.execute(
                    text("SELECT status FROM orders WHERE id = :o"), {"o": order_id}
                ).scalar_one()
            )
    finally:
        engine.dispose()


def test_a_parent_pays_a_demo_order_on_the_hosted_page(city: tuple[ServingLoop, Backend]) -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: apt-get install -y chromium (make chromium)")
    from playwright.sync_api import expect, sync_playwright

    loop, backend = city
    order = loop.run(_order(backend))
    events: list[str] = []
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = chromium.new_page(locale="fr-CA")
            page.on("console", lambda message: events.append(message.text))
            page.on(
                "request",
                lambda request: events.append(request.url + " " + (request.post_data or "")),
            )
            page.goto(order["payment_url"])
            expect(page.locator("h1")).to_have_text("Paiement sécurisé")
            expect(page.locator("#commande")).to_contain_text(str(order["order_id"]))
            # The card field is the provider's script's (localstripe's stand-in here).
            page.locator("#carte input[placeholder=number]").fill("4242424242424242")
            page.locator("#carte input[placeholder=exp_month]").fill("12")
            page.locator("#carte input[placeholder=exp_year]").fill("31")
            page.locator("#carte input[placeholder=cvc]").fill("123")
            page.locator("#carte input[placeholder=postal_code]").fill("G1R 4P5")
            page.get_by_role("button", name="Payer 95,00").click()
            expect(page.locator("#resultat")).to_contain_text("Paiement de 95,00", timeout=20000)
            expect(page.locator("#paiement")).to_be_hidden()
        finally:
            chromium.close()

    assert _order_status(backend, order["order_id"]) == "paid"
    # The card number went to the provider only, never to our backend.
    ours = [e for e in events if e.startswith(backend.base_url)]
    assert ours and not any("4242424242424242" in e for e in ours), ours
    assert any(e.startswith(shared().base) and "4242424242424242" in e for e in events)
    # localstripe's signed webhook reaches the backend too, and changes nothing.
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        engine = make_engine(backend.settings.database_url)
        with engine.connect() as conn:
            seen = conn.execute(text("SELECT COUNT(*) FROM gateway_event")).scalar_one()
        engine.dispose()
        if seen:
            break
        time.sleep(0.2)
    assert seen and _order_status(backend, order["order_id"]) == "paid"
