"""One real localstripe process for the tests of this folder, and the browser's part of the
card flow (what Stripe.js does with the card in the parent's browser)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from localstripe_process import PUBLISHABLE_KEY, SECRET_KEY, LocalStripe, running

from backend.adapters.stripe_gateway import StripeGateway

WEBHOOK_SECRET = "whsec_test_localstripe"
APP = "inscriptions-test"


@pytest.fixture(scope="session")
def localstripe() -> Iterator[LocalStripe]:
    with running() as server:
        yield server


@pytest.fixture
def gateway(localstripe: LocalStripe) -> StripeGateway:
    return StripeGateway(
        secret_key=SECRET_KEY,
        webhook_secret=WEBHOOK_SECRET,
        app_name=APP,
        api_base=localstripe.base,
        max_network_retries=0,
    )


def browser_confirms_setup(
    server: LocalStripe, client_secret: str, number: str
) -> tuple[int, dict[str, Any]]:
    """The request localstripe's Stripe.js makes for `confirmCardSetup` (publishable key only):
    the card goes from the browser to the provider, never to our backend."""
    setup_id = client_secret.split("_secret_")[0]
    response = httpx.post(
        f"{server.base}/v1/setup_intents/{setup_id}/confirm",
        json={
            "key": PUBLISHABLE_KEY,
            "use_stripe_sdk": True,
            "client_secret": client_secret,
            "payment_method_data": {
                "type": "card",
                "card": {"number": number, "exp_month": "12", "exp_year": "2031", "cvc": "123"},
            },
        },
        timeout=5,
    )
    return response.status_code, response.json()
