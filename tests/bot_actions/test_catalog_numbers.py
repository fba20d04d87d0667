"""The catalog the actions read shows the places of this very moment: a place another family
took a second ago is gone from it, with nothing cleared in between (the action server keeps the
catalog's structure, never its numbers), against the real backend."""

from __future__ import annotations

import re
from typing import Any

from harness import http_json, latest_code

from bot.actions.backend_client import backend


def family_token(base_url: str, client: str, phone: str) -> str:
    started = http_json(
        "POST", f"{base_url}/api/identify/start", {"client_number": client, "phone": phone})
    code = latest_code(base_url, re.sub(r"\D", "", phone)[-10:])
    verified = http_json("POST", f"{base_url}/api/identify/verify",
                         {"challenge_id": started["challenge_id"], "code": code})
    return str(verified["family_token"])


def week(catalog: dict[str, Any], session_id: int) -> dict[str, Any]:
    return next(s for p in catalog["programs"] for g in p["groups"] for s in g["sessions"]
                if s["id"] == session_id)


async def test_a_place_taken_by_another_family_is_gone_at_the_next_read(backend_url: str) -> None:
    marc = family_token(backend_url, "100002", "418-555-0102")
    julie = family_token(backend_url, "100001", "418-555-0101")
    seen = await backend.catalog(julie)
    assert "open_for_family" in seen["season"]  # the family's own season, as /api/catalog gives
    camp = next(p for p in seen["programs"] if p["category"] == "camp_de_jour")
    group = next(g for g in camp["groups"]
                 if g["label"] == "9-12 ans" and g["site"] == "Parc de la Rivière")
    target = group["sessions"][5]
    family = http_json("GET", f"{backend_url}/api/family", headers={"X-Family-Token": marc})
    emma = next(c["id"] for c in family["children"] if c["first_name"] == "Emma")

    # Marc takes a place and a service de garde, straight through the backend (another
    # action server, or the web page): nothing tells this action server.
    http_json("POST", f"{backend_url}/api/cart/lines", {
        "child_id": emma, "session_ids": [target["id"]], "options": ["garde"],
        "tshirt_size": "M", "join_waitlist": True}, headers={"X-Family-Token": marc})

    now = week(await backend.catalog(julie), target["id"])
    assert now["available"] == target["available"] - 1
    garde = {o["code"]: o["available"] for o in now["options"]}["garde"]
    assert garde == {o["code"]: o["available"] for o in target["options"]}["garde"] - 1
    # the rest of the week is the catalog's own: dates and prices as the backend has them
    assert {k: v for k, v in now.items() if k not in ("available", "options")} == {
        k: v for k, v in target.items() if k not in ("available", "options")}
