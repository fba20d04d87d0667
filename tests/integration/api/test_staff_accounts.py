"""Staff accounts over HTTP: login with a strict session cookie, CSRF on every cookie change,
logout and expiry revoke, roles answered with staff codes and French sentences, the audit log
read by coordinators. A staff refusal is never the parents' « Votre session n'est plus
active ». SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from api_harness import STAFF_PASSWORD, Backend, add_staff, camp_sessions

CAPACITY = {"capacity": 25}


async def _login(b: Backend, username: str, password: str = STAFF_PASSWORD) -> httpx.Response:
    return await b.http.post("/api/staff/login", json={"username": username, "password": password})


def _cookie(response: httpx.Response) -> dict[str, str]:
    """The session as the browser would send it back (the Secure cookie is not kept by httpx
    over plain http, so it is sent by hand)."""
    value = response.headers["set-cookie"].split(";")[0]
    return {"Cookie": value}


async def _capacity(b: Backend, session_id: int) -> int:
    r = await b.call("GET", "/api/catalog")
    for program in r.json()["programs"]:
        for group in program["groups"]:
            for s in group["sessions"]:
                if s["id"] == session_id:
                    return int(s["capacity"])
    raise AssertionError(session_id)


async def test_login_sets_a_strict_cookie_and_changes_need_its_csrf_token(city: Backend) -> None:
    add_staff(city.settings.database_url, "mtremblay", "coordinator", clock=city.clock)
    week = (await camp_sessions(city, "Parc de la Rivière", "9-12 ans"))[3]
    path = f"/api/staff/sessions/{week}"

    for username, password in (("mtremblay", "pas-le-bon-mot"), ("personne", STAFF_PASSWORD)):
        r = await _login(city, username, password)
        assert r.status_code == 401 and "set-cookie" not in r.headers
        assert r.json()["error"] == {
            "code": "staff_login_failed",
            "message": "Le nom d'utilisateur ou le mot de passe est incorrect.",
        }

    r = await _login(city, "mtremblay")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["staff"] == {"username": "mtremblay", "role": "coordinator", "groups": []}
    cookie = r.headers["set-cookie"]
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "secure", "samesite", "path"} <= attributes
    assert "SameSite=Strict" in cookie and "Path=/api/staff" in cookie
    assert body["csrf_token"] not in cookie
    session = _cookie(r)

    r = await city.http.get("/api/staff/me", headers=session)
    assert r.status_code == 200 and r.json()["username"] == "mtremblay"

    # A change with the cookie alone (what a forged cross-site form would send) is refused.
    for headers in (session, {**session, "X-CSRF-Token": "devine"}):
        r = await city.http.patch(path, json=CAPACITY, headers=headers)
        assert r.status_code == 403
        assert r.json()["error"]["code"] == "staff_csrf"
        assert r.json()["error"]["message"].startswith("Cette demande n'a pas pu être vérifiée")
    assert await _capacity(city, week) == 20
    r = await city.http.patch(
        path, json=CAPACITY, headers={**session, "X-CSRF-Token": body["csrf_token"]}
    )
    assert r.status_code == 200, r.text
    assert await _capacity(city, week) == 25

    # Logged out: the same cookie opens nothing any more.
    r = await city.http.post(
        "/api/staff/logout", headers={**session, "X-CSRF-Token": body["csrf_token"]}
    )
    assert r.status_code == 200 and r.json() == {"logged_out": True}
    r = await city.http.get("/api/staff/me", headers=session)
    assert r.status_code == 401 and r.json()["error"]["code"] == "staff_unauthorized"


async def test_a_staff_session_expires_on_the_backend_clock(city: Backend) -> None:
    add_staff(city.settings.database_url, "aide1", "help_desk", clock=city.clock)
    session = _cookie(await _login(city, "aide1"))
    assert (await city.http.get("/api/staff/me", headers=session)).status_code == 200
    city.clock.advance(timedelta(minutes=city.settings.staff_session_minutes + 1))
    r = await city.http.get("/api/staff/me", headers=session)
    assert r.status_code == 401 and r.json()["error"]["code"] == "staff_unauthorized"


async def test_staff_refusals_are_staff_errors_not_the_parents(city: Backend) -> None:
    parents = "Votre session n'est plus active"
    for headers in (
        {},
        {"Authorization": "Bearer test-service-secret"},  # the action server's secret
        {"Authorization": "Bearer pas-un-jeton"},
        {"Cookie": "staff_session=pas-une-session"},
        city.headers("x" * 32),
    ):
        r = await city.http.post("/api/staff/families/100003/approve", headers=headers)
        assert r.status_code == 401, headers
        error = r.json()["error"]
        assert error["code"] == "staff_unauthorized"
        assert error["message"].startswith("Connexion du personnel requise.")
        assert parents not in error["message"]
    r = await city.http.get("/api/family", headers={})
    assert r.json()["error"]["code"] == "unauthorized"  # the parents' routes are unchanged


async def test_each_role_reaches_only_its_routes(city: Backend) -> None:
    week = (await camp_sessions(city, "Parc de la Rivière", "9-12 ans"))[4]
    help_desk, coordinator = city.staff_headers("help_desk"), city.staff_headers("coordinator")
    animator = city.staff_headers("animator")

    forbidden: list[tuple[dict[str, str], str, str, Any]] = [
        (help_desk, "PATCH", f"/api/staff/sessions/{week}", CAPACITY),
        (help_desk, "PATCH", "/api/staff/seasons/1", {"payment_mode": "deferred"}),
        (help_desk, "POST", "/api/staff/jobs/run", None),
        (help_desk, "GET", "/api/staff/audit", None),
        (animator, "POST", "/api/staff/families/100003/approve", None),
        (animator, "GET", "/api/staff/families/100001", None),
        (coordinator, "GET", "/api/staff/groups/1/children", None),
    ]
    for headers, method, path, body in forbidden:
        r = await city.http.request(method, path, json=body, headers=headers)
        assert r.status_code == 403, (method, path, r.text)
        assert r.json()["error"] == {
            "code": "staff_forbidden", "message": "Votre rôle ne permet pas cette action."
        }
    assert await _capacity(city, week) == 20
    r = await city.http.get("/api/staff/families/100003", headers=help_desk)
    assert r.status_code == 200 and r.json()["family"]["status"] == "pending"

    # What they may do, audited under their own names, read by a coordinator.
    r = await city.http.post("/api/staff/families/100003/approve", headers=help_desk)
    assert r.status_code == 200, r.text
    r = await city.http.patch(f"/api/staff/sessions/{week}", json=CAPACITY, headers=coordinator)
    assert r.status_code == 200, r.text
    r = await city.http.get("/api/staff/audit", headers=coordinator)
    assert r.status_code == 200, r.text
    capacity, approval = r.json()["entries"]
    assert (approval["actor"], approval["action"], approval["via"]) == (
        "help_desk-1", "family_approved", "api"
    )
    assert approval["at"].startswith("2027-04-20T")  # the backend's clock, not the machine's
    assert capacity["actor"] == "coordinator-2" and capacity["target_id"] == str(week)
    assert capacity["detail"] == {"from": 20, "to": 25}
    r = await city.http.get(
        "/api/staff/audit", params={"action": "family_approved", "limit": 5}, headers=coordinator
    )
    assert r.status_code == 200, r.text
    assert [e["action"] for e in r.json()["entries"]] == ["family_approved"]


async def test_the_staff_routes_are_documented(city: Backend) -> None:
    doc = (await city.http.get("/docs/openapi.json")).json()
    login = doc["paths"]["/api/staff/login"]["post"]
    body = login["requestBody"]["content"]["application/json"]["schema"]
    assert set(body["required"]) == {"username", "password"}
    ok = login["responses"]["200"]["content"]["application/json"]["schema"]
    assert {"staff", "csrf_token", "expires_at"} <= set(ok["properties"])
    for path, method in (("/api/staff/audit", "get"), ("/api/staff/logout", "post"),
                         ("/api/staff/me", "get"),
                         ("/api/staff/groups/{group_id}/children", "get"),
                         ("/api/staff/families/{client_number}", "get")):
        responses = doc["paths"][path][method]["responses"]
        assert "application/json" in responses["200"]["content"], path
        assert "$ref" not in str(responses), path


async def test_guessing_a_password_locks_the_account_for_a_while(city: Backend) -> None:
    add_staff(city.settings.database_url, "cible", "coordinator", clock=city.clock)
    for attempt in range(5):
        r = await _login(city, "cible", f"essai-{attempt}")
        assert r.status_code == 401
    # Locked: even the right password is refused, with the same answer as a wrong one.
    r = await _login(city, "cible")
    assert r.status_code == 401 and r.json()["error"]["code"] == "staff_login_failed"
    assert "set-cookie" not in r.headers
    city.clock.advance(timedelta(minutes=16))
    r = await _login(city, "cible")
    assert r.status_code == 200, r.text
