"""A scripted piece of registration night for the staff's live view (docs/STAFF.md "Live
view"), and the figures it should show read straight from the database with SQL of its own:
what the API test and the browser test of /staff compare the view with."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from api_harness import Backend, add_family, camp_sessions, identify
from localstripe_process import pay_on_page
from sqlalchemy import text

from backend.adapters.clock import to_local
from backend.db.engine import make_engine, make_session_factory, transaction
from backend.services import auth

RIVIERE = "Parc de la Rivière"
ERABLES = "Parc des Érables"


async def add_line(city: Backend, token: str, child_id: int, session_id: int) -> str:
    r = await city.call("POST", "/api/cart/lines", token=token,
                        json={"child_id": child_id, "session_ids": [session_id],
                              "tshirt_size": "M", "join_waitlist": True})
    assert r.status_code == 200, r.text
    return str(r.json()["results"][0]["outcome"])


async def checkout(city: Backend, token: str, key: str) -> dict[str, Any]:
    r = await city.call("POST", "/api/checkout", token=token,
                        json={"installments": 1, "accept_terms": True, "idempotency_key": key})
    assert r.status_code == 201, r.text
    return dict(r.json())


async def family(city: Backend, client_number: str, phone: str) -> tuple[str, dict[str, int]]:
    """The family token and its children's ids by first name."""
    me = await identify(city, client_number, phone)
    children = {c["first_name"]: int(c["id"]) for c in me["family"]["children"]}
    return str(me["family_token"]), children


async def scripted_night(city: Backend) -> dict[str, Any]:
    """Julie registers Léa for two weeks and pays; Thomas goes on the full week's waitlist;
    Marc registers Emma and leaves the payment pending; Karim's Yasmine waits for the full
    week too. Returns the session ids and orders involved."""
    riviere = await camp_sessions(city, RIVIERE, "9-12 ans")
    erables = await camp_sessions(city, ERABLES, "7-8 ans")

    julie, kids = await family(city, "100001", "418-555-0101")
    assert await add_line(city, julie, kids["Léa"], riviere[2]) == "held"
    assert await add_line(city, julie, kids["Léa"], riviere[3]) == "held"
    assert await add_line(city, julie, kids["Thomas"], erables[1]) == "waitlisted"
    paid = await checkout(city, julie, "night-julie")
    status, answer = await pay_on_page(paid["payment_url"], "4242424242424242")
    assert status == 200, answer

    marc, kids = await family(city, "100002", "418-555-0102")
    assert await add_line(city, marc, kids["Emma"], riviere[2]) == "held"
    emma = kids["Emma"]
    pending = await checkout(city, marc, "night-marc")

    karim, kids = await family(city, "100004", "581-555-0104")
    assert await add_line(city, karim, kids["Yasmine"], erables[1]) == "waitlisted"
    return {"riviere": riviere, "erables": erables, "paid": paid, "pending": pending,
            "marc": marc, "emma": emma}


def database_figures(url: str) -> dict[str, Any]:
    """Per session (capacity, lines holding a place, lines waiting) and per order status
    (orders, total): counted from the lines and orders themselves, not from the pools'
    counters the live view reads."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            sessions = {
                int(row.id): (int(row.capacity), int(row.taken), int(row.waiting))
                for row in conn.execute(text(
                    "SELECT s.id, p.capacity, "
                    "(SELECT COUNT(*) FROM line l WHERE l.session_id = s.id AND l.status IN "
                    "('held', 'offered', 'confirmed')) AS taken, "
                    "(SELECT COUNT(*) FROM line l WHERE l.session_id = s.id AND "
                    "l.status = 'waitlisted') AS waiting "
                    "FROM session s JOIN capacity_pool p ON p.id = s.pool_id"
                ))
            }
            orders = {
                str(row.status): (int(row.n), int(row.cents))
                for row in conn.execute(text(
                    "SELECT status, COUNT(*) AS n, SUM(total_cents) AS cents FROM orders "
                    "GROUP BY status"
                ))
            }
            received = conn.execute(text(
                "SELECT COALESCE(SUM(amount_cents), 0) FROM installment WHERE status = 'paid'"
            )).scalar_one()
    finally:
        engine.dispose()
    return {"sessions": sessions, "orders": orders, "received_cents": int(received)}


async def open_rush(city: Backend, families: int, *, rate: float, cap: int) -> dict[str, Any]:
    """A waiting room opening now, `families` new family files in line, one minute later an
    admission step: the coordinator's status of the rush afterwards."""
    now = to_local(city.clock.now()).replace(tzinfo=None).isoformat()
    r = await city.http.post("/api/staff/rushes", headers=city.staff_headers("coordinator"),
                             json={"season_id": 1, "opens_at": now, "rate_per_minute": rate,
                                   "cap": cap})
    assert r.status_code == 201, r.text
    rush_id = int(r.json()["id"])
    engine = make_engine(city.settings.database_url)
    try:
        with transaction(make_session_factory(engine)) as db:
            tokens = [
                auth.issue_family_token(
                    db, add_family(db, f"77{i:04d}", f"+1450666{i:04d}").id, via="web",
                    clock=city.clock, minutes=120)
                for i in range(families)
            ]
    finally:
        engine.dispose()
    for token in tokens:
        r = await city.call("POST", "/api/waiting-room/join", token=token, json={})
        assert r.status_code == 200, r.text
    city.clock.advance(timedelta(minutes=1))
    r = await city.http.post(f"/api/staff/rushes/{rush_id}/admit",
                             headers=city.staff_headers("coordinator"))
    assert r.status_code == 200, r.text
    return dict(r.json()["rush"])
