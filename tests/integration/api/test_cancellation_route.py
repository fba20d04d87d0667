"""A parent's cancellation over HTTP (`/api/family/lines/{id}/cancellation|cancel`), on the
demo city: the shapes and codes the bot reads, and the French sentence of each refusal. The
money of a paid registration is tested in tests/integration/money/test_parent_cancellation.py."""

from __future__ import annotations

from api_harness import Backend, camp_sessions, identify

RIVIERE = "Parc de la Rivière"


async def test_a_parent_cancels_a_held_week_and_nobody_else_can(city: Backend) -> None:
    julie = await identify(city, "100001", "418-555-0101")
    marc = await identify(city, "100002", "418-555-0102")
    token = julie["family_token"]
    lea = next(c for c in julie["family"]["children"] if c["first_name"] == "Léa")
    weeks = await camp_sessions(city, RIVIERE, "9-12 ans")
    body = {"child_id": lea["id"], "session_ids": [weeks[2]]}
    r = await city.call("POST", "/api/cart/lines", token=token, json=body)
    assert r.status_code == 200, r.text
    line_id = r.json()["results"][0]["line_id"]
    path = f"/api/family/lines/{line_id}"

    r = await city.call("GET", f"{path}/cancellation", token=token)
    assert r.status_code == 200, r.text
    preview = r.json()
    assert preview["line"]["id"] == line_id and preview["line"]["status"] == "held"
    assert preview["week_label"].startswith("semaine 2, du ")
    assert (preview["refund_cents"], preview["fee_cents"]) == (0, 0)

    for method, suffix in (("GET", "/cancellation"), ("POST", "/cancel")):
        r = await city.call(method, path + suffix, token=marc["family_token"])
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = await city.call("POST", f"{path}/cancel", auth=False)
    assert r.status_code == 401

    r = await city.call("POST", f"{path}/cancel", token=token)
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["line"]["status"] == "cancelled" and done["remaining_due"] == []
    r = await city.call("GET", "/api/cart", token=token)
    assert [ln["id"] for ln in r.json()["lines"]] == []

    r = await city.call("POST", f"{path}/cancel", token=token)
    assert r.status_code == 409
    error = r.json()["error"]
    assert error["code"] == "already_cancelled"
    assert error["message"] == "Cette inscription est déjà annulée."
