"""The Stripe adapter against a real localstripe process: what each call of the port does at
the provider, with localstripe's test cards."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import stripe
from conftest import APP, WEBHOOK_SECRET
from localstripe_process import LocalStripe, browser_confirms_setup

from backend.adapters.gateway import (
    EventKind,
    PaymentStatus,
    PaymentTags,
    WebhookRejected,
)
from backend.adapters.stripe_gateway import StripeGateway

APPROVED = "4242424242424242"
DECLINED_AT_SETUP = "4000000000000002"
DECLINED_AT_CHARGE = "4000000000000341"

TAGS = PaymentTags(order_id=41, installment_id=7, attempt=1)


def saved_card(gateway: StripeGateway, server: LocalStripe, number: str) -> tuple[str, str]:
    """A customer and a card attached to it, the way the hosted page leaves them."""
    customer = gateway.ensure_customer(family_id=3, idempotency_key=f"customer-{time.time_ns()}")
    setup = gateway.create_card_setup(customer_id=customer, idempotency_key=f"s-{time.time_ns()}")
    status, _body = browser_confirms_setup(server, setup.client_secret, number)
    assert status == 200
    confirmed = gateway.retrieve_card_setup(setup.id)
    assert confirmed.succeeded and confirmed.payment_method_id
    gateway.attach_card(payment_method_id=confirmed.payment_method_id, customer_id=customer)
    return customer, confirmed.payment_method_id


def test_one_payment_created_then_confirmed(
    gateway: StripeGateway, localstripe: LocalStripe
) -> None:
    customer, card = saved_card(gateway, localstripe, APPROVED)
    created = gateway.create_payment(
        customer_id=customer,
        payment_method_id=card,
        amount_cents=14250,
        tags=TAGS,
        idempotency_key="pay-41-7-1",
        confirm=False,
    )
    assert created.status == PaymentStatus.OTHER  # stored by the caller before confirming
    assert created.tags == TAGS and created.amount_cents == 14250
    paid = gateway.confirm_payment(created.id)
    assert paid.status == PaymentStatus.SUCCEEDED and paid.decline_code is None
    again = gateway.retrieve_payment(created.id)
    assert again.status == PaymentStatus.SUCCEEDED and again.tags == TAGS


def test_a_card_declined_at_setup_never_reaches_the_server(
    gateway: StripeGateway, localstripe: LocalStripe
) -> None:
    customer = gateway.ensure_customer(family_id=3, idempotency_key="customer-declined")
    setup = gateway.create_card_setup(customer_id=customer, idempotency_key="setup-declined")
    status, body = browser_confirms_setup(localstripe, setup.client_secret, DECLINED_AT_SETUP)
    assert status == 402 and body["error"]["code"] == "card_declined"
    assert not gateway.retrieve_card_setup(setup.id).succeeded


def test_off_session_decline_comes_back_as_a_payment(
    gateway: StripeGateway, localstripe: LocalStripe
) -> None:
    customer, card = saved_card(gateway, localstripe, DECLINED_AT_CHARGE)
    result = gateway.create_payment(
        customer_id=customer,
        payment_method_id=card,
        amount_cents=9500,
        tags=PaymentTags(order_id=41, installment_id=8, attempt=1),
        idempotency_key="pay-41-8-1",
        confirm=True,
        off_session=True,
    )
    assert result.status == PaymentStatus.REQUIRES_PAYMENT_METHOD
    assert result.decline_code == "card_declined"
    assert result.tags == PaymentTags(order_id=41, installment_id=8, attempt=1)


def test_on_session_decline_at_confirm(gateway: StripeGateway, localstripe: LocalStripe) -> None:
    customer, card = saved_card(gateway, localstripe, DECLINED_AT_CHARGE)
    created = gateway.create_payment(
        customer_id=customer,
        payment_method_id=card,
        amount_cents=9500,
        tags=TAGS,
        idempotency_key="pay-declined-confirm",
        confirm=False,
    )
    result = gateway.confirm_payment(created.id)
    assert result.status == PaymentStatus.REQUIRES_PAYMENT_METHOD
    assert result.decline_code == "card_declined"
    refused = gateway.refund(payment_id=created.id, amount_cents=100, idempotency_key="r-none")
    assert not refused.ok  # nothing was taken, nothing can be given back


def test_refund_exactly_the_amount_asked(gateway: StripeGateway, localstripe: LocalStripe) -> None:
    customer, card = saved_card(gateway, localstripe, APPROVED)
    paid = gateway.create_payment(
        customer_id=customer,
        payment_method_id=card,
        amount_cents=19000,
        tags=TAGS,
        idempotency_key="pay-refund",
        confirm=True,
    )
    assert paid.status == PaymentStatus.SUCCEEDED
    refund = gateway.refund(payment_id=paid.id, amount_cents=16625, idempotency_key="refund-1")
    assert refund.ok and refund.amount_cents == 16625 and refund.id.startswith("re_")


def test_card_kept_only_until_detached(gateway: StripeGateway, localstripe: LocalStripe) -> None:
    customer, card = saved_card(gateway, localstripe, APPROVED)
    gateway.detach_card(payment_method_id=card)
    client = stripe.StripeClient("sk_test_localstripe", base_addresses={"api": localstripe.base})
    assert client.v1.payment_methods.retrieve(card).customer is None


# ---------------------------------------------------------------------------- webhooks


class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[bytes, str | None]]

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.received.append((body, self.headers.get("Stripe-Signature")))  # type: ignore[attr-defined]
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture(scope="module")
def receiver(localstripe: LocalStripe) -> Iterator[list[tuple[bytes, str | None]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    server.received = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    localstripe.register_webhook(
        f"http://127.0.0.1:{server.server_address[1]}/hook", WEBHOOK_SECRET, name="adapter"
    )
    yield server.received  # type: ignore[attr-defined]
    server.shutdown()


def _wait_for(
    received: list[tuple[bytes, str | None]], kind: str, payment_id: str
) -> tuple[bytes, str | None]:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        for body, signature in list(received):
            event = json.loads(body)
            if event["type"] == kind and event["data"]["object"]["id"] == payment_id:
                return body, signature
        time.sleep(0.1)
    raise AssertionError(f"no {kind} for {payment_id}")


def test_localstripe_webhooks_verify_and_parse(
    gateway: StripeGateway, localstripe: LocalStripe, receiver: list[tuple[bytes, str | None]]
) -> None:
    customer, card = saved_card(gateway, localstripe, APPROVED)
    paid = gateway.create_payment(
        customer_id=customer,
        payment_method_id=card,
        amount_cents=5000,
        tags=TAGS,
        idempotency_key="pay-hook",
        confirm=True,
    )
    body, signature = _wait_for(receiver, "payment_intent.succeeded", paid.id)
    event = gateway.parse_event(body, signature)
    assert event.kind == EventKind.PAYMENT_SUCCEEDED and event.id.startswith("evt_")
    assert event.payment is not None and event.payment.id == paid.id
    assert event.payment.tags == TAGS and event.payment.amount_cents == 5000
    # A replay verifies again (the services deduplicate on the id), an altered body does not.
    assert gateway.parse_event(body, signature).id == event.id
    with pytest.raises(WebhookRejected):
        gateway.parse_event(body.replace(b"5000", b"5001"), signature)
    with pytest.raises(WebhookRejected):
        gateway.parse_event(body, None)

    declining_customer, declining = saved_card(gateway, localstripe, DECLINED_AT_CHARGE)
    failed = gateway.create_payment(
        customer_id=declining_customer,
        payment_method_id=declining,
        amount_cents=5000,
        tags=TAGS,
        idempotency_key="pay-hook-failed",
        confirm=True,
        off_session=True,
    )
    body, signature = _wait_for(receiver, "payment_intent.payment_failed", failed.id)
    failure = gateway.parse_event(body, signature)
    assert failure.kind == EventKind.PAYMENT_FAILED and failure.payment is not None
    assert failure.payment.status == PaymentStatus.REQUIRES_PAYMENT_METHOD


def _signed(payload: dict[str, object], timestamp: int | None = None) -> tuple[bytes, str]:
    """Signed with the library's own scheme, as Stripe signs."""
    text = json.dumps(payload)
    header = stripe.WebhookSignature.generate_signature_header(text, WEBHOOK_SECRET, timestamp)
    return text.encode(), header


def _intent_event(metadata: dict[str, str]) -> dict[str, object]:
    return {
        "id": "evt_signed_here",
        "type": "payment_intent.succeeded",
        "created": int(time.time()),
        "data": {
            "object": {
                "id": "pi_x",
                "object": "payment_intent",
                "amount": 100,
                "status": "succeeded",
                "metadata": metadata,
            }
        },
    }


def test_stale_and_foreign_events(gateway: StripeGateway) -> None:
    body, header = _signed(_intent_event({}), timestamp=int(time.time()) - 301)
    with pytest.raises(WebhookRejected):
        gateway.parse_event(body, header)  # older than the tolerance, by the wall clock

    body, header = _signed(_intent_event({"order_id": "3"}))
    untagged = gateway.parse_event(body, header)
    assert untagged.payment is not None and untagged.payment.tags is None
    assert not untagged.payment.foreign_app

    body, header = _signed(
        _intent_event(
            {"app": "another-app", "order_id": "3", "installment_id": "1", "attempt": "1"}
        )
    )
    other = gateway.parse_event(body, header)
    assert other.payment is not None and other.payment.tags is None and other.payment.foreign_app

    body, header = _signed(
        _intent_event({"app": APP, "order_id": "3", "installment_id": "1", "attempt": "2"})
    )
    ours = gateway.parse_event(body, header)
    assert ours.payment is not None
    assert ours.payment.tags == PaymentTags(order_id=3, installment_id=1, attempt=2)
