"""Stripe's webhook: signature over the raw body with the secret, timestamps older than 300 s of
wall time refused (whatever the backend's clock says), replays harmless."""

from __future__ import annotations

import json
import time

import stripe
from api_harness import Backend

SIGNATURE_HEADER = "Stripe-Signature"


def sign(body: bytes, secret: str, timestamp: int) -> str:
    return stripe.WebhookSignature.generate_signature_header(body.decode(), secret, timestamp)


async def test_signature_and_staleness(backend: Backend) -> None:
    secret = backend.settings.stripe_webhook_secret
    body = json.dumps(
        {"id": "evt_test_1", "type": "charge.succeeded", "created": 1, "data": {"object": {}}}
    ).encode()
    url = "/api/gateway/webhook"

    async def post(header: str | None, content: bytes = body) -> int:
        headers = {"Content-Type": "application/json"}
        if header is not None:
            headers[SIGNATURE_HEADER] = header
        r = await backend.http.post(url, content=content, headers=headers)
        if r.status_code == 401:
            assert r.json()["error"]["code"] == "unauthorized"
        return r.status_code

    now = int(time.time())  # wall time: the backend's clock is in 2027
    assert await post(None) == 401
    assert await post(sign(body, "wrong-secret", now)) == 401
    assert await post(sign(body, secret, now - 301)) == 401  # stale
    assert await post(sign(body, secret, now), body + b" ") == 401  # body changed
    assert await post(sign(body, secret, now)) == 200
    r = await backend.http.post(
        url,
        content=body,
        headers={SIGNATURE_HEADER: sign(body, secret, now), "Content-Type": "application/json"},
    )
    assert r.json()["result"] == {"outcome": "duplicate"}
