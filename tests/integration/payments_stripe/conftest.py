"""The real localstripe process of the test run, and a Stripe adapter pointed at it."""

from __future__ import annotations

import pytest
from localstripe_process import SECRET_KEY, LocalStripe, shared

from backend.adapters.stripe_gateway import StripeGateway

WEBHOOK_SECRET = "whsec_test_localstripe"
APP = "inscriptions-test"


@pytest.fixture(scope="session")
def localstripe() -> LocalStripe:
    return shared()


@pytest.fixture
def gateway(localstripe: LocalStripe) -> StripeGateway:
    return StripeGateway(
        secret_key=SECRET_KEY,
        webhook_secret=WEBHOOK_SECRET,
        app_name=APP,
        api_base=localstripe.base,
        max_network_retries=0,
    )
