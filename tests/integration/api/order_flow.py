"""A family with one camp week checked out and its payment link: what the payment-page and log
tests start from."""

from __future__ import annotations

from typing import Any

from api_harness import Backend, camp_sessions, identify


async def checked_out(
    backend: Backend, client_number: str = "100002", phone: str = "418-555-0102"
) -> tuple[str, dict[str, Any]]:
    """(family token, checkout answer with `payment_url`) for one week of camp, paid at once."""
    me = await identify(backend, client_number, phone)
    token = str(me["family_token"])
    child = me["family"]["children"][0]
    sessions = await camp_sessions(backend, "Parc de la Rivière", "9-12 ans")
    r = await backend.call(
        "POST",
        "/api/cart/lines",
        token=token,
        json={"child_id": child["id"], "session_ids": [sessions[2]], "tshirt_size": "M"},
    )
    assert r.status_code == 200 and r.json()["results"][0]["outcome"] == "held", r.text
    r = await backend.call(
        "POST",
        "/api/checkout",
        token=token,
        json={"installments": 1, "accept_terms": True, "idempotency_key": f"o-{client_number}"},
    )
    assert r.status_code == 201, r.text
    return token, dict(r.json())
