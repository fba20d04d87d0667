"""Sign-out: a revoked family token stops working at once, for the chat and the help desk."""

from __future__ import annotations

import io
import json

from api_harness import Backend, add_staff, identify

from backend.services.auth import TokenCache
from backend.staff_cli import main as staff_cli

FAMILY_ROUTES = ("/api/family", "/api/cart", "/api/checkout/terms")


async def test_a_parent_who_signs_out_cannot_use_the_token_again(city: Backend) -> None:
    julie = await identify(city, "100001", "418-555-0101")
    marc = await identify(city, "100002", "418-555-0102")
    token = julie["family_token"]
    r = await city.call("GET", "/api/family", token=token)
    assert r.status_code == 200 and r.json()["client_number"] == "100001"  # now in the cache

    r = await city.call("POST", "/api/family/session/revoke", token=token)
    assert r.status_code == 200, r.text
    assert r.json() == {"revoked": True}

    for path in FAMILY_ROUTES:
        r = await city.call("GET", path, token=token)
        assert r.status_code == 401, path
        assert r.json()["error"]["code"] == "unauthorized"
    r = await city.call("GET", "/api/catalog", token=token)
    assert r.status_code == 401
    r = await city.call("POST", "/api/family/session/revoke", token=token)
    assert r.status_code == 401
    # another family's session is untouched
    r = await city.call("GET", "/api/family", token=marc["family_token"])
    assert r.status_code == 200 and r.json()["client_number"] == "100002"


async def test_revoking_needs_the_service_secret_and_a_live_token(city: Backend) -> None:
    julie = await identify(city, "100001", "418-555-0101")
    token = julie["family_token"]
    r = await city.call(
        "POST", "/api/family/session/revoke", auth=False, headers={"X-Family-Token": token}
    )
    assert r.status_code == 401
    r = await city.call("POST", "/api/family/session/revoke", token="x" * 32)
    assert r.status_code == 401
    r = await city.call("GET", "/api/family", token=token)
    assert r.status_code == 200  # the refused attempts revoked nothing


async def test_the_help_desk_closes_every_session_of_a_family(city: Backend) -> None:
    # Every process re-reads a cached token after its recheck delay; here, on each use.
    city.app.ctx.state.tokens = TokenCache(recheck_seconds=0)
    first = await identify(city, "100001", "418-555-0101")
    second = await identify(city, "100001", "418-555-0101")
    marc = await identify(city, "100002", "418-555-0102")
    for found in (first, second):
        r = await city.call("GET", "/api/family", token=found["family_token"])
        assert r.status_code == 200

    helpdesk = "accueil"
    add_staff(city.settings.database_url, helpdesk, "help_desk", clock=city.clock)
    out, err = io.StringIO(), io.StringIO()
    code = staff_cli(
        ["--staff", helpdesk, "revoke-sessions", "--client-number", "100001"],
        settings=city.settings, out=out, err=err,
    )
    assert code == 0, err.getvalue()
    assert json.loads(out.getvalue()) == {"revoked_sessions": 2}

    for found in (first, second):
        r = await city.call("GET", "/api/family", token=found["family_token"])
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    r = await city.call("GET", "/api/family", token=marc["family_token"])
    assert r.status_code == 200

    code = staff_cli(
        ["--staff", helpdesk, "revoke-sessions", "--client-number", "999999"],
        settings=city.settings, out=out, err=err,
    )
    assert code == 1 and err.getvalue().startswith("not_found")
