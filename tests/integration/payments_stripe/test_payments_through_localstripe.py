"""Paid orders end to end through a running backend and a real localstripe process, at a set
clock, on SQLite and PostgreSQL.

The parent's browser is played by what localstripe's Stripe.js does (the card goes to the
provider, only the card-setup id reaches us); localstripe delivers its own signed webhooks to
the backend (`/_config/webhooks`), and a copy of each to a recorder here, so that a test can
replay, reorder or forge them.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))

from api_harness import (  # noqa: E402
    Backend,
    camp_sessions,
    database_url,  # noqa: F401 - fixture (SQLite and PostgreSQL)
    identify,
    seed_demo_data,
    start_backend,
    stop_backend,
)
from localstripe_process import (  # noqa: E402
    browser_confirms_setup,
    card_on_file,
    refunds_of,
    shared,
)

from backend.adapters.clock import ManualClock, from_local  # noqa: E402
from backend.adapters.gateway import PaymentTags  # noqa: E402
from backend.adapters.stripe_gateway import StripeGateway  # noqa: E402
from backend.db.engine import make_engine  # noqa: E402

OPENING_NIGHT = from_local(datetime(2027, 4, 20, 19, 0))
WEBHOOK_SECRET = "whsec_e2e_localstripe"
APPROVED, DECLINED, DECLINES_LATER = "4242424242424242", "4000000000000002", "4000000000000341"


# ---------------------------------------------------------------------------- webhook copies


class _Copies(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.copies.append((body, self.headers.get("Stripe-Signature") or ""))  # type: ignore[attr-defined]
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture(scope="module")
def copies() -> Iterator[list[tuple[bytes, str]]]:
    """Every event localstripe sends, as sent (body and signature)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Copies)
    server.copies = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    shared().register_webhook(
        f"http://127.0.0.1:{server.server_address[1]}/copies", WEBHOOK_SECRET, name="copies"
    )
    yield server.copies  # type: ignore[attr-defined]
    server.shutdown()


@pytest.fixture
async def city(database_url: str, copies: list[Any]) -> AsyncIterator[Backend]:  # noqa: F811
    clock = ManualClock(OPENING_NIGHT)
    seed_demo_data(database_url, clock)
    server = shared()
    running = await start_backend(
        database_url, clock=clock, stripe_api_base=server.base, stripe_webhook_secret=WEBHOOK_SECRET
    )
    server.register_webhook(f"{running.base_url}/api/gateway/webhook", WEBHOOK_SECRET)
    try:
        yield running
    finally:
        await stop_backend(running)


def _gateway(city: Backend, app: str | None = None) -> StripeGateway:
    return StripeGateway(
        secret_key=city.settings.stripe_secret_key,
        webhook_secret=WEBHOOK_SECRET,
        app_name=app or city.settings.stripe_app_name,
        api_base=shared().base,
        max_network_retries=0,
    )


def _rows(backend: Backend, sql: str, **params: Any) -> list[Any]:
    engine = make_engine(backend.settings.database_url)
    try:
        with engine.begin() as conn:
            return list(conn.execute(text(sql), params))
    finally:
        engine.dispose()


def _outbox(backend: Backend, client_number: str, kind: str) -> list[Any]:
    return _rows(
        backend,
        "SELECT n.channel, n.body FROM notification n JOIN family f ON f.id = n.family_id "
        "WHERE f.client_number = :c AND n.kind = :k ORDER BY n.id",
        c=client_number,
        k=kind,
    )


async def _until(check: Any, what: str, timeout: float = 20.0) -> Any:
    """Poll until `check()` is truthy (localstripe sends its webhooks a second after an event)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"never happened: {what}")


def _events_for(copies: list[tuple[bytes, str]], kind: str, payment_id: str) -> list[Any]:
    out = []
    for body, signature in list(copies):
        event = json.loads(body)
        if event["type"] == kind and event["data"]["object"]["id"] == payment_id:
            out.append((body, signature))
    return out


async def _order(
    city: Backend, client: str, phone: str, group: str, weeks: list[int], n: int, consent: bool
) -> tuple[str, dict[str, Any]]:
    me = await identify(city, client, phone)
    token = me["family_token"]
    child = me["family"]["children"][0]
    sessions = await camp_sessions(city, "Parc de la Rivière", group)
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
    r = await city.call(
        "POST",
        "/api/checkout",
        token=token,
        json={
            "installments": n,
            "accept_terms": True,
            "card_on_file_consent": consent,
            "idempotency_key": f"order-{client}-{n}",
        },
    )
    assert r.status_code == 201, r.text
    return token, r.json()


async def _pay(url: str, number: str) -> tuple[int, dict[str, Any], str]:
    """The parent on the hosted page: the page, the card given to the provider's script, then
    the page's own POST (the card-setup id only). Returns (status, answer, page html)."""
    async with httpx.AsyncClient(timeout=30) as browser:
        page = await browser.get(url)
        assert page.status_code == 200, page.text
        config = json.loads(
            re.search(
                r'<script type="application/json" id="config">(.*?)</script>', page.text, re.S
            ).group(1)  # type: ignore[union-attr]
        )
        status, setup = await asyncio.to_thread(
            browser_confirms_setup, shared(), config["secret"], number
        )
        if status != 200:
            return status, setup, page.text
        r = await browser.post(url + "/pay", json={"setup_id": setup["id"]})
        return r.status_code, r.json(), page.text


async def _view(city: Backend, token: str, order_id: int) -> dict[str, Any]:
    r = await city.call("GET", f"/api/orders/{order_id}", token=token)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _payment_of(city: Backend, order_id: int, seq: int) -> str:
    [(charge,)] = _rows(
        city,
        "SELECT charge_id FROM installment WHERE order_id = :o AND seq = :s",
        o=order_id,
        s=seq,
    )
    return str(charge)


# ---------------------------------------------------------------------------- the tests


async def test_two_installments_paid_on_the_page_then_by_the_job(
    city: Backend, copies: list[tuple[bytes, str]]
) -> None:
    token, order = await _order(city, "100004", "581-555-0104", "7-8 ans", [2, 3], 2, True)
    assert [i["amount_cents"] for i in order["installments"]] == [14000, 14000]

    status, answer, page = await _pay(order["payment_url"], APPROVED)
    assert status == 200 and answer["status"] == "paid", answer
    assert "140,00" in answer["message"]
    assert f"Commande n° {order['order_id']}" in page and 'lang="fr-CA"' in page
    assert "Versement 2" in page and "valide jusqu" in page
    assert 'name="number"' not in page  # no card field of ours: the provider's script has it
    first = _payment_of(city, order["order_id"], 1)
    assert first.startswith("pi_")

    # localstripe's own webhook arrives and changes nothing; replayed twice, nothing either.
    [(body, signature)] = await _until(
        lambda: _events_for(copies, "payment_intent.succeeded", first), "succeeded event"
    )
    await _until(
        lambda: _rows(city, "SELECT 1 FROM gateway_event WHERE kind = 'payment_intent.succeeded'"),
        "the webhook recorded",
    )
    async with httpx.AsyncClient(timeout=10) as client:
        for _ in range(2):
            r = await client.post(
                f"{city.base_url}/api/gateway/webhook",
                content=body,
                headers={"Stripe-Signature": signature},
            )
            assert r.status_code == 200 and r.json()["result"]["outcome"] == "duplicate", r.text
        forged = await client.post(
            f"{city.base_url}/api/gateway/webhook",
            content=body.replace(b"14000", b"28000"),
            headers={"Stripe-Signature": signature},
        )
        assert forged.status_code == 401
    view = await _view(city, token, order["order_id"])
    assert view["status"] == "partially_paid" and view["paid_cents"] == 14000
    assert {line["status"] for line in view["lines"]} == {"confirmed"}
    assert refunds_of(shared(), first) == []
    confirmations = _outbox(city, "100004", "confirmation")
    assert confirmations
    # The card's last digits, read from the provider's payment method at capture.
    assert all("carte se terminant par 4242" in body for _channel, body in confirmations)
    [(card, last4)] = _rows(
        city, "SELECT card_token, card_last4 FROM orders WHERE id = :o", o=order["order_id"]
    )
    assert str(card).startswith("pm_")  # kept with consent: a payment method, never a number
    assert last4 == "4242"

    # A month later the job charges the saved card off-session; again, nothing more.
    city.clock.set(from_local(datetime(2027, 5, 20, 9, 0)))
    r = await city.http.post("/api/staff/jobs/run", headers=city.staff_headers())
    assert r.status_code == 200 and r.json()["installments"] == {"charged": 1, "failed": 0}
    r = await city.http.post("/api/staff/jobs/run", headers=city.staff_headers())
    assert r.json()["installments"] == {"charged": 0, "failed": 0}
    token = (await identify(city, "100004", "581-555-0104"))["family_token"]
    view = await _view(city, token, order["order_id"])
    assert view["status"] == "paid" and view["paid_cents"] == 28000 and view["due_cents"] == 0
    second = _payment_of(city, order["order_id"], 2)
    assert second.startswith("pi_") and second != first
    assert _gateway(city).retrieve_payment(second).amount_cents == 14000


async def test_a_declined_card_then_one_payment_and_the_card_is_not_kept(city: Backend) -> None:
    token, order = await _order(city, "100001", "418-555-0101", "9-12 ans", [2], 1, False)
    status, answer, _page = await _pay(order["payment_url"], DECLINED)
    assert status == 402 and answer["error"]["code"] == "card_declined"  # at the provider
    view = await _view(city, token, order["order_id"])
    assert view["paid_cents"] == 0 and view["status"] == "awaiting_payment"

    status, answer, _page = await _pay(order["payment_url"], APPROVED)
    assert status == 200 and answer["status"] == "paid", answer
    view = await _view(city, token, order["order_id"])
    assert view["status"] == "paid" and view["paid_cents"] == 9500
    payment = _gateway(city).retrieve_payment(_payment_of(city, order["order_id"], 1))
    assert payment.payment_method_id is not None
    [(card,)] = _rows(city, "SELECT card_token FROM orders WHERE id = :o", o=order["order_id"])
    assert card is None
    import stripe

    client = stripe.StripeClient("sk_test_localstripe", base_addresses={"api": shared().base})
    assert client.v1.payment_methods.retrieve(payment.payment_method_id).customer is None


async def test_a_card_declined_at_charge_on_the_page(city: Backend) -> None:
    token, order = await _order(city, "100002", "418-555-0102", "9-12 ans", [4], 1, False)
    status, answer, _page = await _pay(order["payment_url"], DECLINES_LATER)
    assert status == 402 and answer["status"] == "declined" and "refusée" in answer["message"]
    view = await _view(city, token, order["order_id"])
    assert view["paid_cents"] == 0 and {ln["status"] for ln in view["lines"]} == {"held"}
    # A new page load asks for a new card setup; another card pays.
    status, answer, _page = await _pay(order["payment_url"], APPROVED)
    assert status == 200 and answer["status"] == "paid"


async def test_declined_second_installment_sends_a_link_that_works(city: Backend) -> None:
    token, order = await _order(city, "100001", "418-555-0101", "9-12 ans", [2, 3], 2, True)
    status, answer, _page = await _pay(order["payment_url"], APPROVED)
    assert status == 200 and answer["status"] == "paid"
    # The card on file is one that attaches but declines at charge (localstripe's 0341).
    [(customer,)] = _rows(
        city, "SELECT gateway_customer_id FROM orders WHERE id = :o", o=order["order_id"]
    )
    declining = card_on_file(shared(), str(customer), DECLINES_LATER)
    engine = make_engine(city.settings.database_url)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE orders SET card_token = :c WHERE id = :o"),
            {"c": declining, "o": order["order_id"]},
        )
    engine.dispose()

    city.clock.set(from_local(datetime(2027, 5, 20, 9, 0)))
    r = await city.http.post("/api/staff/jobs/run", headers=city.staff_headers())
    assert r.status_code == 200 and r.json()["installments"] == {"charged": 0, "failed": 1}
    token = (await identify(city, "100001", "418-555-0101"))["family_token"]
    view = await _view(city, token, order["order_id"])
    assert [i["status"] for i in view["installments"]] == ["paid", "failed"]
    [sms, *_rest] = _outbox(city, "100001", "installment_failed")
    assert "95,00 $" in sms.body
    url = re.search(r"https?://\S+/p/\S+", sms.body).group(0)  # type: ignore[union-attr]
    status, answer, _page = await _pay(url, APPROVED)
    assert status == 200 and "95,00" in answer["message"]
    view = await _view(city, token, order["order_id"])
    assert view["status"] == "paid" and view["paid_cents"] == 19000


async def test_webhooks_in_any_order_and_payments_we_do_not_know(
    city: Backend, copies: list[tuple[bytes, str]]
) -> None:
    token, order = await _order(city, "100001", "418-555-0101", "9-12 ans", [2], 1, False)
    [(inst_id, customer)] = _rows(
        city,
        "SELECT i.id, o.gateway_customer_id FROM installment i JOIN orders o "
        "ON o.id = i.order_id WHERE o.id = :o",
        o=order["order_id"],
    )
    assert customer is None  # no page opened: the provider side is made here
    ours = _gateway(city)
    customer = ours.ensure_customer(family_id=1, idempotency_key="e2e-customer")

    def card(number: str) -> str:
        return card_on_file(shared(), customer, number)

    tags = PaymentTags(order_id=order["order_id"], installment_id=int(inst_id), attempt=1)
    # A declined try and a paid one, both made by the page before it died: the webhooks alone
    # tell the backend. The failure is delivered last.
    declined = ours.create_payment(
        customer_id=customer,
        payment_method_id=card(DECLINES_LATER),
        amount_cents=9500,
        tags=tags,
        idempotency_key="d",
        confirm=True,
    )
    paid = ours.create_payment(
        customer_id=customer,
        payment_method_id=card(APPROVED),
        amount_cents=9500,
        tags=PaymentTags(order_id=order["order_id"], installment_id=int(inst_id), attempt=2),
        idempotency_key="p",
        confirm=True,
    )
    [success] = await _until(
        lambda: _events_for(copies, "payment_intent.succeeded", paid.id), "succeeded"
    )
    [failure] = await _until(
        lambda: _events_for(copies, "payment_intent.payment_failed", declined.id), "failed"
    )
    view = await _until(
        lambda: _rows(
            city, "SELECT status FROM orders WHERE id = :o AND status = 'paid'", o=order["order_id"]
        ),
        "paid through the webhook",
    )
    async with httpx.AsyncClient(timeout=10) as client:
        for body, signature in (failure, success, failure):
            r = await client.post(
                f"{city.base_url}/api/gateway/webhook",
                content=body,
                headers={"Stripe-Signature": signature},
            )
            assert r.status_code == 200 and r.json()["result"]["outcome"] == "duplicate"
    view = await _view(city, token, order["order_id"])
    assert view["status"] == "paid" and view["paid_cents"] == 9500
    assert refunds_of(shared(), paid.id) == []

    # Tagged by us for an installment that does not exist: given back in full, and logged.
    stray = ours.create_payment(
        customer_id=customer,
        payment_method_id=card(APPROVED),
        amount_cents=4200,
        tags=PaymentTags(order_id=order["order_id"], installment_id=999_999, attempt=1),
        idempotency_key="s",
        confirm=True,
    )
    assert await _until(lambda: refunds_of(shared(), stray.id), "stray refunded") == [4200]
    # Another application's payment on the same account: left alone.
    other = _gateway(city, app="another-app").create_payment(
        customer_id=customer,
        payment_method_id=card(APPROVED),
        amount_cents=4300,
        tags=tags,
        idempotency_key="o",
        confirm=True,
    )
    await _until(lambda: _events_for(copies, "payment_intent.succeeded", other.id), "other")
    await _until(
        lambda: _rows(
            city,
            "SELECT 1 FROM gateway_event WHERE event_id = :e",
            e=json.loads(_events_for(copies, "payment_intent.succeeded", other.id)[0][0])["id"],
        ),
        "other recorded",
    )
    assert refunds_of(shared(), other.id) == []
    view = await _view(city, token, order["order_id"])
    assert view["paid_cents"] == 9500 and view["refunded_cents"] == 0


async def test_refund_after_a_cancellation_and_a_second_payment_refunded(
    city: Backend, copies: list[tuple[bytes, str]]
) -> None:
    token, order = await _order(city, "100001", "418-555-0101", "9-12 ans", [2, 3], 1, False)
    status, answer, _page = await _pay(order["payment_url"], APPROVED)
    assert status == 200 and answer["status"] == "paid"
    first = _payment_of(city, order["order_id"], 1)

    # A second payment for the same installment (another tab, say) arrives by webhook.
    [(inst_id, customer)] = _rows(
        city,
        "SELECT i.id, o.gateway_customer_id FROM installment i JOIN orders o "
        "ON o.id = i.order_id WHERE o.id = :o",
        o=order["order_id"],
    )
    twin = _gateway(city).create_payment(
        customer_id=str(customer),
        payment_method_id=card_on_file(shared(), str(customer), APPROVED),
        amount_cents=19000,
        tags=PaymentTags(order_id=order["order_id"], installment_id=int(inst_id), attempt=9),
        idempotency_key="twin",
        confirm=True,
    )
    assert await _until(lambda: refunds_of(shared(), twin.id), "twin refunded") == [19000]
    assert refunds_of(shared(), first) == []

    # Staff cancel one week: the refund the rules compute goes through Stripe's Refund API.
    view = await _view(city, token, order["order_id"])
    line = view["lines"][1]
    r = await city.http.post(f"/api/staff/lines/{line['id']}/cancel", headers=city.staff_headers())
    assert r.status_code == 200, r.text
    refunded = r.json()["refunded_cents"]
    assert refunded > 0
    assert refunds_of(shared(), first) == [refunded]
    [(ledger,)] = _rows(city, "SELECT SUM(amount_cents) FROM refund WHERE charge_id = :c", c=first)
    assert ledger == refunded


async def test_expired_link_page_is_clear(city: Backend) -> None:
    _token, order = await _order(city, "100002", "418-555-0102", "9-12 ans", [4, 5], 1, False)
    city.clock.advance(timedelta(minutes=31))
    async with httpx.AsyncClient(timeout=10) as browser:
        page = await browser.get(order["payment_url"])
        assert page.status_code == 410
        assert "expiré" in page.text and "418 555-0199" in page.text
        r = await browser.post(order["payment_url"] + "/pay", json={"setup_id": "seti_x"})
        assert r.status_code == 410
        unknown = await browser.get(f"{city.base_url}/p/inconnu")
        assert unknown.status_code == 404 and 'lang="fr-CA"' in unknown.text
