"""Forged staff credentials on every staff route of the OpenAPI document: random and
truncated tokens, a cookie session's token sent as a bearer token and the other way round, a
revoked token, an expired session, a valid cookie with a wrong CSRF token, the service secret.
Each is refused with a staff code (401 or 403) and the database does not change by a single
row. Deterministic (seeded); the counts are the figures of docs/RELIABILITY.md."""

from __future__ import annotations

import random
import string
from datetime import timedelta

from api_harness import STAFF_PASSWORD, Backend, add_staff
from test_fuzz import _fill, _snapshot

from backend.domain.roles import STAFF_HTTP_STATUS

ALPHABET = string.ascii_letters + string.digits + "-_"


async def test_forged_staff_credentials_open_nothing_and_change_nothing(city: Backend) -> None:
    url = city.settings.database_url
    bearer = add_staff(url, "coordo", "coordinator", clock=city.clock)
    revoked = add_staff(url, "parti", "coordinator", clock=city.clock)
    r = await city.http.post(
        "/api/staff/logout", headers={"Authorization": f"Bearer {revoked}"}
    )
    assert r.status_code == 200
    r = await city.http.post(
        "/api/staff/login", json={"username": "coordo", "password": STAFF_PASSWORD}
    )
    cookie_token = r.headers["set-cookie"].split(";")[0].split("=", 1)[1]
    csrf = r.json()["csrf_token"]
    r = await city.http.post(
        "/api/staff/login", json={"username": "coordo", "password": STAFF_PASSWORD}
    )
    stale_cookie = r.headers["set-cookie"].split(";")[0].split("=", 1)[1]

    doc = (await city.http.get("/docs/openapi.json")).json()
    routes = [
        (method.upper(), path)
        for path, ops in doc["paths"].items()
        if path.startswith("/api/staff") and path != "/api/staff/login"
        for method in ops
        if method.upper() in ("GET", "POST", "PATCH", "DELETE")
    ]
    assert len(routes) >= 10

    rng = random.Random(20270420)
    forged: list[dict[str, str]] = [
        {"Authorization": "Bearer test-service-secret"},
        {"Authorization": f"Bearer {cookie_token}"},  # a cookie session is not a bearer token
        {"Cookie": f"staff_session={bearer}"},  # nor the other way round
        {"Authorization": f"Bearer {revoked}"},
        {"Authorization": f"Bearer {bearer[:-1]}"},
        {"Authorization": f"Bearer {bearer}x"},
        {"Authorization": f"Basic {bearer}"},
        {"Authorization": f"Bearer {'A' * 5000}"},
        {"Cookie": f"staff_session={csrf}"},
    ]
    for _ in range(40):
        token = "".join(rng.choice(ALPHABET) for _ in range(rng.choice((8, 43, 64, 129))))
        forged.append(rng.choice(({"Authorization": f"Bearer {token}"},
                                  {"Cookie": f"staff_session={token}"})))
    before = _snapshot(url)
    tried = 0
    for method, path in routes:
        concrete = _fill(path, "1")
        attempts = list(forged)
        if method != "GET":  # a real cookie without (or with a wrong) CSRF token
            attempts += [
                {"Cookie": f"staff_session={cookie_token}"},
                {"Cookie": f"staff_session={cookie_token}", "X-CSRF-Token": csrf[:-1]},
                {"Cookie": f"staff_session={cookie_token}", "X-CSRF-Token": bearer},
            ]
        for headers in attempts:
            r = await city.http.request(
                method, concrete, json={"capacity": 0, "payment_mode": "deferred"},
                headers=headers,
            )
            code = r.json()["error"]["code"]
            assert code in STAFF_HTTP_STATUS and r.status_code in (401, 403), (
                method, path, headers, r.status_code, code)
            tried += 1
    # The real session still works, and after expiry it does not.
    r = await city.http.get("/api/staff/me", headers={"Cookie": f"staff_session={stale_cookie}"})
    assert r.status_code == 200
    city.clock.advance(timedelta(minutes=city.settings.staff_session_minutes))
    for method, path in routes:
        r = await city.http.request(method, _fill(path, "1"),
                                    headers={"Cookie": f"staff_session={stale_cookie}"})
        assert r.status_code == 401, (method, path)
        tried += 1
    assert _snapshot(url) == before
    print(f"\nforged staff requests: {tried} on {len(routes)} routes, all refused, 0 rows changed")
