"""Who may call what: service secret, family tokens scoped to one family, staff accounts."""

from __future__ import annotations

from api_harness import Backend, camp_sessions, identify


async def test_no_or_wrong_service_secret_is_401(city: Backend) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic xyz"}):
        r = await city.http.get("/api/catalog", headers=headers)
        assert r.status_code == 401, headers
        assert r.json()["error"]["code"] == "unauthorized"
        assert r.json()["error"]["message"]
    r = await city.http.post(
        "/api/identify/start", json={"client_number": "100001", "phone": "418-555-0101"}
    )
    assert r.status_code == 401


async def test_family_routes_need_a_valid_family_token(city: Backend) -> None:
    for token in (None, "x" * 32):
        for path in ("/api/family", "/api/cart", "/api/checkout/terms", "/api/orders/1"):
            r = await city.call("GET", path, token=token)
            assert r.status_code == 401, (path, token)


async def test_a_family_token_cannot_reach_another_family(city: Backend) -> None:
    julie = await identify(city, "100001", "418-555-0101")
    marc = await identify(city, "100002", "418-555-0102")
    lea = next(c for c in julie["family"]["children"] if c["first_name"] == "Léa")
    emma = marc["family"]["children"][0]
    weeks = await camp_sessions(city, "Parc de la Rivière", "9-12 ans")

    r = await city.call(
        "POST",
        "/api/cart/lines",
        token=julie["family_token"],
        json={"child_id": lea["id"], "session_ids": [weeks[2], weeks[3]]},
    )
    assert r.status_code == 200, r.text
    line_id = r.json()["results"][0]["line_id"]
    r = await city.call(
        "POST",
        "/api/checkout",
        token=julie["family_token"],
        json={"installments": 1, "accept_terms": True, "idempotency_key": "julie-1"},
    )
    assert r.status_code == 201, r.text
    order_id = r.json()["order_id"]

    # Marc's token sees none of it.
    r = await city.call("GET", f"/api/orders/{order_id}", token=marc["family_token"])
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = await city.call("DELETE", f"/api/cart/lines/{line_id}", token=marc["family_token"])
    assert r.status_code == 404
    r = await city.call(
        "PATCH",
        f"/api/cart/lines/{line_id}",
        token=marc["family_token"],
        json={"options": ["garde"]},
    )
    assert r.status_code == 404
    r = await city.call("GET", "/api/cart", token=marc["family_token"])
    assert r.status_code == 200 and r.json()["lines"] == []
    r = await city.call("GET", "/api/family", token=marc["family_token"])
    assert r.json()["client_number"] == "100002"
    # Nor can Marc put Julie's child in his own cart.
    r = await city.call(
        "POST",
        "/api/cart/lines",
        token=marc["family_token"],
        json={"child_id": lea["id"], "session_ids": [weeks[4]]},
    )
    assert r.status_code == 404
    r = await city.call(
        "GET",
        "/api/catalog/eligible",
        token=marc["family_token"],
        params={"child_id": lea["id"]},
    )
    assert r.status_code == 404
    r = await city.call(
        "GET",
        "/api/catalog/eligible",
        token=marc["family_token"],
        params={"child_id": emma["id"]},
    )
    assert r.status_code == 200

    # Julie still sees her order.
    r = await city.call("GET", f"/api/orders/{order_id}", token=julie["family_token"])
    assert r.status_code == 200 and r.json()["total_cents"] == 19000


async def test_staff_routes_need_a_staff_account(city: Backend) -> None:
    path = "/api/staff/families/100003/approve"
    r = await city.call("POST", path)  # the service secret is not enough
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "staff_unauthorized"
    r = await city.http.post(path, headers=city.staff_headers("help_desk"))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved"
    r = await city.http.post(
        "/api/staff/families/999999/approve", headers=city.staff_headers("help_desk")
    )
    assert r.status_code == 404


async def test_pending_account_cannot_fill_a_cart(city: Backend) -> None:
    sophie = await identify(city, "100003", "418-555-0103")
    assert sophie["family"]["status"] == "pending"
    noah = sophie["family"]["children"][0]
    weeks = await camp_sessions(city, "Parc des Érables", "5-6 ans")
    r = await city.call(
        "POST",
        "/api/cart/lines",
        token=sophie["family_token"],
        json={"child_id": noah["id"], "session_ids": [weeks[2]]},
    )
    assert r.status_code == 403
    error = r.json()["error"]
    assert error["code"] == "account_pending" and "approbation" in error["message"]
