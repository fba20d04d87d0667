"""`POST /api/cart/lines/{id}/replace` and `overlapping_session` over HTTP, on the demo city:
the answers the bot reads (codes, parameters, French sentence) and the cart it shows next."""

from __future__ import annotations

from typing import Any

from api_harness import Backend, camp_sessions, identify

ERABLES, RIVIERE = "Parc des Érables", "Parc de la Rivière"


async def _julie(city: Backend) -> tuple[str, int]:
    julie = await identify(city, "100001", "418-555-0101")
    thomas = next(c for c in julie["family"]["children"] if c["first_name"] == "Thomas")
    return julie["family_token"], int(thomas["id"])


async def _hold(city: Backend, token: str, child: int, session: int, **kw: Any) -> int:
    body = {"child_id": child, "session_ids": [session], **kw}
    r = await city.call("POST", "/api/cart/lines", token=token, json=body)
    assert r.status_code == 200, r.text
    result = r.json()["results"][0]
    assert result["outcome"] == "held", result
    return int(result["line_id"])


async def _cart(city: Backend, token: str) -> list[tuple[int, str]]:
    r = await city.call("GET", "/api/cart", token=token)
    assert r.status_code == 200, r.text
    return [(ln["session_id"], ln["status"]) for ln in r.json()["lines"]]


async def test_a_week_is_replaced_and_the_cart_shows_the_new_one(city: Backend) -> None:
    token, thomas = await _julie(city)
    weeks = await camp_sessions(city, ERABLES, "7-8 ans")
    old = await _hold(city, token, thomas, weeks[2], options=["garde"])

    r = await city.call(
        "POST", f"/api/cart/lines/{old}/replace", token=token, json={"session_id": weeks[4]}
    )

    assert r.status_code == 200, r.text
    body = r.json()
    assert body["outcome"] == "held" and body["replaced_line_id"] == old
    assert [(ln["session_id"], ln["week"], ln["status"]) for ln in body["lines"]] == [
        (weeks[4], 4, "held")
    ]
    assert [o["code"] for o in body["lines"][0]["options"]] == ["garde"]
    assert body["lines"][0]["id"] == body["line_id"]
    assert await _cart(city, token) == [(weeks[4], "held")]


async def test_a_full_week_is_refused_and_the_held_week_stays(city: Backend) -> None:
    token, thomas = await _julie(city)
    weeks = await camp_sessions(city, ERABLES, "7-8 ans")  # week 1 is the demo's full week
    old = await _hold(city, token, thomas, weeks[2])

    r = await city.call(
        "POST", f"/api/cart/lines/{old}/replace", token=token, json={"session_id": weeks[1]}
    )

    assert r.status_code == 409, r.text
    error = r.json()["error"]
    assert error["code"] == "session_full" and error["session_id"] == weeks[1]
    assert error["message"] == "Ce groupe est complet pour cette période."
    assert await _cart(city, token) == [(weeks[2], "held")]

    r = await city.call(
        "POST",
        f"/api/cart/lines/{old}/replace",
        token=token,
        json={"session_id": weeks[1], "join_waitlist": True},
    )
    assert r.status_code == 200, r.text
    assert r.json()["outcome"] == "waitlisted" and r.json()["waitlist_position"] == 1
    assert sorted(await _cart(city, token)) == sorted(
        [(weeks[2], "held"), (weeks[1], "waitlisted")]
    )


async def test_an_overlapping_week_is_refused_with_what_the_bot_can_name(city: Backend) -> None:
    token, thomas = await _julie(city)
    erables = await camp_sessions(city, ERABLES, "7-8 ans")
    riviere = await camp_sessions(city, RIVIERE, "7-8 ans")
    at_riviere = await _hold(city, token, thomas, riviere[3])
    old = await _hold(city, token, thomas, erables[2])

    for method, path, body in (
        ("POST", "/api/cart/lines", {"child_id": thomas, "session_ids": [erables[3]]}),
        ("POST", f"/api/cart/lines/{old}/replace", {"session_id": erables[3]}),
    ):
        r = await city.call(method, path, token=token, json=body)
        assert r.status_code == 409, r.text
        error = r.json()["error"]
        assert error["code"] == "overlapping_session"
        assert error["session_id"] == erables[3] and error["conflict_line_id"] == at_riviere
        assert (error["program"], error["group"], error["site"], error["week"]) == (
            "Camp de jour",
            "7-8 ans",
            RIVIERE,
            3,
        )
        assert error["message"].startswith(
            "Cet enfant a déjà une place au même moment : Camp de jour, 7-8 ans."
        )
    assert sorted(await _cart(city, token)) == sorted([(riviere[3], "held"), (erables[2], "held")])


async def test_malformed_or_foreign_replacements_change_nothing(city: Backend) -> None:
    token, thomas = await _julie(city)
    weeks = await camp_sessions(city, ERABLES, "7-8 ans")
    old = await _hold(city, token, thomas, weeks[2])
    path = f"/api/cart/lines/{old}/replace"
    r = await city.call("POST", path, token=token, json={"session_id": str(weeks[3])})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request"
    r = await city.call("POST", path, token=token, json={})
    assert r.status_code == 422
    r = await city.call(
        "POST", f"/api/cart/lines/{old + 1000}/replace", token=token, json={"session_id": 1}
    )
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    marc = await identify(city, "100002", "418-555-0102")
    r = await city.call("POST", path, token=marc["family_token"], json={"session_id": weeks[3]})
    assert r.status_code == 404
    assert await _cart(city, token) == [(weeks[2], "held")]
