"""A real localstripe process on a free loopback port, for the tests that pay through it."""

from __future__ import annotations

import atexit
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import stripe

ROOT = Path(__file__).resolve().parent.parent
LAUNCHER = ROOT / "scripts" / "localstripe_local.py"

SECRET_KEY = "sk_test_localstripe"
PUBLISHABLE_KEY = "pk_test_localstripe"


@dataclass(frozen=True)
class LocalStripe:
    base: str  # http://127.0.0.1:<port>

    @property
    def js_url(self) -> str:
        return f"{self.base}/js.stripe.com/v3/"

    def register_webhook(self, url: str, secret: str, name: str = "backend") -> None:
        """localstripe's own configuration endpoint: it then POSTs every event to `url`,
        signed with `secret` in Stripe's scheme."""
        data = f"url={url}&secret={secret}".encode()
        request = urllib.request.Request(
            f"{self.base}/_config/webhooks/{name}", data=data, method="POST"
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@contextmanager
def running(timeout: float = 30.0) -> Iterator[LocalStripe]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, str(LAUNCHER), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = LocalStripe(base=f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + timeout
        while not _answers(server.js_url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("localstripe did not start")
            time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


_shared: LocalStripe | None = None
_shared_context: Any = None


def shared() -> LocalStripe:
    """One localstripe process for the whole test run, started at first use, stopped at exit."""
    global _shared, _shared_context
    if _shared is None:
        _shared_context = running()
        _shared = _shared_context.__enter__()
        atexit.register(_shared_context.__exit__, None, None, None)
    return _shared


def browser_confirms_setup(
    server: LocalStripe, client_secret: str, number: str
) -> tuple[int, dict[str, Any]]:
    """The request localstripe's Stripe.js makes for `confirmCardSetup` (publishable key only):
    the card goes from the browser to the provider, never to our backend."""
    setup_id = client_secret.split("_secret_")[0]
    body = json.dumps(
        {
            "key": PUBLISHABLE_KEY,
            "use_stripe_sdk": True,
            "client_secret": client_secret,
            "payment_method_data": {
                "type": "card",
                "card": {"number": number, "exp_month": "12", "exp_year": "2031", "cvc": "123"},
            },
        }
    ).encode()
    request = urllib.request.Request(
        f"{server.base}/v1/setup_intents/{setup_id}/confirm", data=body, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status), dict(json.loads(response.read()))
    except urllib.error.HTTPError as refused:
        return int(refused.code), dict(json.loads(refused.read()))


def card_on_file(server: LocalStripe, customer_id: str, number: str) -> str:
    """A card attached to `customer_id` at the provider (what a parent's earlier visit left)."""
    client = stripe.StripeClient(SECRET_KEY, base_addresses={"api": server.base})
    card = client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": number, "exp_month": 12, "exp_year": 2031, "cvc": "123"},
        }  # type: ignore[typeddict-item]
    )
    client.v1.payment_methods.attach(card.id, params={"customer": customer_id})
    return str(card.id)


def refunds_of(server: LocalStripe, payment_id: str) -> list[int]:
    """The amounts refunded at the provider for a payment."""
    client = stripe.StripeClient(SECRET_KEY, base_addresses={"api": server.base})
    return [int(r.amount) for r in client.v1.refunds.list(params={"payment_intent": payment_id})]


async def pay_on_page(url: str, number: str) -> tuple[int, dict[str, Any]]:
    """A parent paying on the hosted page: the page, the card given to the provider's script
    (localstripe's Stripe.js request), then the page's own POST with the card-setup id only."""
    import asyncio
    import re

    import httpx

    async with httpx.AsyncClient(timeout=30) as browser:
        page = await browser.get(url)
        assert page.status_code == 200, page.text
        found = re.search(
            r'<script type="application/json" id="config">(.*?)</script>', page.text, re.S
        )
        assert found, page.text
        config = json.loads(found.group(1))
        server = shared()
        status, setup = await asyncio.to_thread(
            browser_confirms_setup, server, config["secret"], number
        )
        if status != 200:
            return status, setup
        answer = await browser.post(url + "/pay", json={"setup_id": setup["id"]})
        return answer.status_code, dict(answer.json())
