"""The gateway webhook: signature over the raw body, stale timestamps refused, replays harmless."""

from __future__ import annotations

import json
from datetime import UTC

from api_harness import Backend

from backend.adapters.local_gateway import SIGNATURE_HEADER, sign_payload


def _unix(backend: Backend) -> int:
    return int(backend.clock.now().replace(tzinfo=UTC).timestamp())


async def test_signature_and_staleness(backend: Backend) -> None:
    secret = backend.settings.gateway_webhook_secret
    body = json.dumps({"id": "evt_test_1", "type": "charge.succeeded", "data": {}}).encode()
    url = "/api/gateway/webhook"

    async def post(header: str | None, content: bytes = body) -> int:
        headers = {"Content-Type": "application/json"}
        if header is not None:
            headers[SIGNATURE_HEADER] = header
        r = await backend.http.post(url, content=content, headers=headers)
        if r.status_code == 401:
            assert r.json()["error"]["code"] == "unauthorized"
        return r.status_code

    now = _unix(backend)
    assert await post(None) == 401
    assert await post(sign_payload(body, "wrong-secret", now)) == 401
    assert await post(sign_payload(body, secret, now - 301)) == 401  # stale
    assert await post(sign_payload(body, secret, now), body + b" ") == 401  # body changed
    assert await post(sign_payload(body, secret, now)) == 200
    r = await backend.http.post(
        url,
        content=body,
        headers={
            SIGNATURE_HEADER: sign_payload(body, secret, now),
            "Content-Type": "application/json",
        },
    )
    assert r.json()["result"] == {"duplicate": True}
