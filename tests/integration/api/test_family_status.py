"""What the help desk reads of a family's own file (GET /api/family/status) and the new payment
link it can send (POST /api/orders/{id}/link), on the demo city."""

from __future__ import annotations

from datetime import timedelta

from api_harness import Backend, camp_sessions, identify
from order_flow import checked_out
from sqlalchemy import text

from backend.db.engine import make_engine


def _links_sent(backend: Backend, order_id: int) -> int:
    """Payment-link messages queued for the family (SMS and courriel each count)."""
    engine = make_engine(backend.settings.database_url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    text("SELECT count(*) FROM notification WHERE kind = 'payment_link'")
                ).scalar_one()
            )
    finally:
        engine.dispose()


async def _status(backend: Backend, token: str) -> dict:  # type: ignore[type-arg]
    r = await backend.call("GET", "/api/family/status", token=token)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_status_shows_the_held_week_the_order_and_what_is_due(city: Backend) -> None:
    token, order = await checked_out(city)
    status = await _status(city, token)
    (emma,) = status["children"]
    assert emma["first_name"] == "Emma"
    assert [(line["status"], line["week"]) for line in emma["lines"]] == [("held", 2)]
    newest = status["orders"][0]
    assert newest["id"] == order["order_id"] and newest["status"] == "awaiting_payment"
    assert newest["link_valid"] is True and newest["payment_url"] == order["payment_url"]
    assert status["balance"]["due_cents"] == order["total_cents"] > 0
    assert [i["seq"] for i in status["balance"]["installments"]] == [1]


async def test_status_gives_the_waitlist_rank(city: Backend) -> None:
    me = await identify(city, "100001", "418-555-0101")
    token = str(me["family_token"])
    thomas = next(c for c in me["family"]["children"] if c["first_name"] == "Thomas")
    full = await camp_sessions(city, "Parc des Érables", "7-8 ans")  # week 1 is full
    r = await city.call(
        "POST",
        "/api/cart/lines",
        token=token,
        json={
            "child_id": thomas["id"],
            "session_ids": [full[1]],
            "tshirt_size": "TP",
            "join_waitlist": True,
        },
    )
    assert r.status_code == 200 and r.json()["results"][0]["outcome"] == "waitlisted", r.text
    status = await _status(city, token)
    by_name = {c["first_name"]: c["lines"] for c in status["children"]}
    assert by_name["Léa"] == []
    assert [(x["status"], x["week"], x["waitlist_position"]) for x in by_name["Thomas"]] == [
        ("waitlisted", 1, 1)
    ]
    assert status["balance"] == {"due_cents": 0, "installments": []}


async def test_an_expired_link_is_renewed_while_the_place_is_free(city: Backend) -> None:
    token, order = await checked_out(city)
    city.clock.advance(timedelta(minutes=35))  # the link (30 min) and the hold are over
    status = await _status(city, token)
    assert status["orders"][0]["link_valid"] is False
    sent_before = _links_sent(city, order["order_id"])
    r = await city.call("POST", f"/api/orders/{order['order_id']}/link", token=token)
    assert r.status_code == 200, r.text
    renewed = r.json()
    assert renewed["status"] == "awaiting_payment"
    assert renewed["payment_url"] == order["payment_url"]
    assert renewed["pay_link_expires_at"] > order["pay_link_expires_at"]
    status = await _status(city, token)
    assert status["orders"][0]["link_valid"] is True
    assert [line["status"] for line in status["children"][0]["lines"]] == ["held"]
    assert _links_sent(city, order["order_id"]) == sent_before + 1  # the link, sent again


async def test_no_link_for_another_familys_order_nor_for_an_unknown_one(city: Backend) -> None:
    _, order = await checked_out(city)
    other = await identify(city, "100001", "418-555-0101")
    r = await city.call(
        "POST", f"/api/orders/{order['order_id']}/link", token=str(other["family_token"])
    )
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = await city.call("POST", "/api/orders/999999/link", token=str(other["family_token"]))
    assert r.status_code == 404
