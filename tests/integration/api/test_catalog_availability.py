"""The catalog's live numbers alone (`GET /api/catalog/availability`, what the action server asks
for on every turn) are the numbers of the whole catalog, before and after places are taken."""

from __future__ import annotations

from typing import Any

from api_harness import Backend, identify

Numbers = dict[int, tuple[int, int, int, dict[str, int]]]


def numbers_of_catalog(catalog: dict[str, Any]) -> Numbers:
    return {
        s["id"]: (s["capacity"], s["available"], s["waitlist_length"],
                  {o["code"]: o["available"] for o in s["options"]})
        for p in catalog["programs"] for g in p["groups"] for s in g["sessions"]
    }


def numbers_of_availability(live: dict[str, Any]) -> Numbers:
    return {
        s["id"]: (s["capacity"], s["available"], s["waitlist_length"],
                  {o["code"]: o["available"] for o in s["options"]})
        for s in live["sessions"]
    }


async def test_the_live_numbers_are_the_catalogs_as_places_are_taken(city: Backend) -> None:
    verified = await identify(city, "100001", "+14185550101")
    token = verified["family_token"]
    children = {c["first_name"]: c["id"] for c in verified["family"]["children"]}

    async def both() -> tuple[dict[str, Any], dict[str, Any]]:
        catalog = (await city.call("GET", "/api/catalog", token=token)).json()
        live = (await city.call("GET", "/api/catalog/availability", token=token)).json()
        assert numbers_of_availability(live) == numbers_of_catalog(catalog)
        assert live["season"] == catalog["season"]  # open_for_family included
        return catalog, live

    catalog, before = await both()
    camp = next(p for p in catalog["programs"] if p["name"] == "Camp de jour")
    group = next(g for g in camp["groups"]
                 if g["label"] == "9-12 ans" and g["site"] == "Parc de la Rivière")
    week = group["sessions"][1]
    full = next(g for g in camp["groups"]
                if g["label"] == "7-8 ans" and g["site"] == "Parc des Érables")["sessions"][0]
    for child, session, options in (("Léa", week, ["garde"]), ("Thomas", full, [])):
        r = await city.call("POST", "/api/cart/lines", token=token, json={
            "child_id": children[child], "session_ids": [session["id"]], "options": options,
            "tshirt_size": "P", "join_waitlist": True})
        assert r.status_code == 200, r.text
    _, after = await both()

    was, now = numbers_of_availability(before), numbers_of_availability(after)
    assert now[week["id"]][1] == was[week["id"]][1] - 1  # Léa's place is held
    assert now[week["id"]][3]["garde"] == was[week["id"]][3]["garde"] - 1
    assert now[full["id"]][1] == 0 and now[full["id"]][2] == was[full["id"]][2] + 1  # Thomas waits
