"""The waiting room over HTTP on SQLite and PostgreSQL: staff open a rush, families join from any
chat (one place per file), the backend refuses their cart changes until they are admitted, two
backend workers on one database share the queue, and a restart keeps every place."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from api_harness import (
    START,
    Backend,
    add_family,
    camp_sessions,
    identify,
    start_backend,
    stop_backend,
)

from backend.adapters.clock import to_local
from backend.app import admit_once
from backend.db.engine import make_engine, make_session_factory, transaction
from backend.services import auth


def _opens_at(minutes: float) -> str:
    """City wall-clock time, as staff type it."""
    return to_local(START + timedelta(minutes=minutes)).replace(tzinfo=None).isoformat()


async def _open(b: Backend, *, minutes: float = 0, rate: float = 10, cap: int = 100) -> int:
    r = await b.call("GET", "/api/catalog")
    season_id = r.json()["season"]["id"]
    r = await b.http.post(
        "/api/staff/rushes",
        json={"season_id": season_id, "opens_at": _opens_at(minutes),
              "rate_per_minute": rate, "cap": cap},
        headers=b.staff_headers(),
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _tokens(b: Backend, n: int) -> list[str]:
    """`n` family files with a chat session each (made directly: identification is not what
    is tested here)."""
    engine = make_engine(b.settings.database_url)
    try:
        with transaction(make_session_factory(engine)) as db:
            out = []
            for i in range(n):
                family = add_family(db, f"55{i:04d}", f"+1450555{i:04d}")
                out.append(auth.issue_family_token(
                    db, family.id, via="web", clock=b.clock, minutes=120))
            return out
    finally:
        engine.dispose()


async def _me(b: Backend, token: str) -> dict[str, Any]:
    r = await b.call("GET", "/api/waiting-room/me", token=token)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_a_family_waits_for_its_turn_before_it_changes_its_cart(city: Backend) -> None:
    r = await city.http.post(
        "/api/staff/rushes",
        json={"season_id": 1, "opens_at": _opens_at(5), "rate_per_minute": 10, "cap": 5},
        headers=city.staff_headers("help_desk"),
    )
    assert r.status_code == 403 and r.json()["error"]["code"] == "staff_forbidden"
    rush_id = await _open(city, minutes=5, rate=10, cap=5)

    first_chat = (await identify(city, "100001", "+14185550101"))["family_token"]
    second_chat = (await identify(city, "100001", "+14185550101"))["family_token"]
    r = await city.call("POST", "/api/waiting-room/join", token=first_chat, json={})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "waiting" and r.json()["position"] is None  # pre-queue
    r = await city.call("POST", "/api/waiting-room/join", token=second_chat, json={})
    assert r.json()["status"] == "waiting"

    city.clock.advance(timedelta(minutes=5))
    place = await _me(city, second_chat)  # the opening passed: the pre-queue is drawn now
    assert place["position"] == 1 and place["admission_required"] is True
    assert place["estimated_wait_minutes"] == 0

    week = (await camp_sessions(city, "Parc de la Rivière", "9-12 ans"))[1]
    cart = (await city.call("GET", "/api/cart", token=first_chat)).json()
    r = await city.call("POST", "/api/cart/lines", token=first_chat,
                        json={"child_id": _child(city, "Léa"), "session_ids": [week],
                              "tshirt_size": "M"})
    assert r.status_code == 409, r.text
    error = r.json()["error"]
    assert error["code"] == "waiting_room" and error["position"] == 1
    assert "salle d'attente" in error["message"] and "votre tour" in error["message"]
    assert (await city.call("GET", "/api/cart", token=first_chat)).json() == cart
    assert (await city.call("GET", "/api/catalog")).status_code == 200  # questions: no queue

    city.clock.advance(timedelta(minutes=1))
    r = await city.http.post(f"/api/staff/rushes/{rush_id}/admit", headers=city.staff_headers())
    assert r.status_code == 200 and r.json()["admitted"] == 1, r.text
    assert (await _me(city, first_chat))["status"] == "admitted"
    family_id = (await city.call("GET", "/api/family", token=first_chat)).json()["id"]
    r = await city.call("GET", f"/api/waiting-room/families/{family_id}")
    assert r.status_code == 200 and r.json()["status"] == "admitted"
    r = await city.call("POST", "/api/cart/lines", token=first_chat,
                        json={"child_id": _child(city, "Léa"), "session_ids": [week],
                              "tshirt_size": "M"})
    assert r.status_code == 200, r.text
    assert r.json()["results"][0]["outcome"] == "held"

    r = await city.http.patch(f"/api/staff/rushes/{rush_id}", json={"rate_per_minute": 40},
                              headers=city.staff_headers())
    assert r.status_code == 200 and r.json()["rate_per_minute"] == 40
    for how, state in (("pause", "paused"), ("resume", "open"), ("close", "closed")):
        r = await city.http.post(f"/api/staff/rushes/{rush_id}/{how}",
                                 headers=city.staff_headers())
        assert r.status_code == 200 and r.json()["state"] == state, r.text
    r = await city.http.post(f"/api/staff/rushes/{rush_id}/pause", headers=city.staff_headers())
    assert r.status_code == 422  # a closed rush does not pause
    audit = await city.http.get("/api/staff/audit?limit=20", headers=city.staff_headers())
    actions = [e["action"] for e in audit.json()["entries"]]
    for action in ("rush_open", "rush_draw", "rush_limits", "rush_pause", "rush_close"):
        assert action in actions
    r = await city.call("POST", "/api/waiting-room/join", token=first_chat, json={})
    assert r.status_code == 409 and r.json()["error"]["code"] == "no_waiting_room"
    assert "directement" in r.json()["error"]["message"]


def _child(b: Backend, first_name: str) -> int:
    from sqlalchemy import select

    from backend.db.models import Person

    engine = make_engine(b.settings.database_url)
    try:
        with transaction(make_session_factory(engine)) as db:
            return int(db.scalar(select(Person.id).where(Person.first_name == first_name)))
    finally:
        engine.dispose()


async def test_two_workers_share_one_queue_and_a_restart_keeps_every_place(
    city: Backend,
) -> None:
    other = await start_backend(city.settings.database_url, clock=city.clock)
    try:
        rush_id = await _open(city, rate=10, cap=100)
        tokens = _tokens(city, 30)
        workers = [city, other]
        answers = await asyncio.gather(*(
            workers[i % 2].call("POST", "/api/waiting-room/join", token=token, json={})
            for i, token in enumerate(tokens)
        ))
        assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
        positions = [a.json()["position"] for a in answers]
        assert sorted(positions) == list(range(1, 31))  # no place given twice, none skipped
        # either worker gives the same answer
        for token, position in zip(tokens, positions, strict=True):
            assert (await _me(other, token))["position"] == position

        city.clock.advance(timedelta(minutes=1))
        done = await asyncio.gather(admit_once(city.app), admit_once(other.app),
                                    admit_once(city.app), admit_once(other.app))
        assert sum(d["admitted"] for d in done) == 10  # one minute at 10, not once per worker
        admitted = [t for t in tokens if (await _me(city, t))["status"] == "admitted"]
        assert sorted(positions[tokens.index(t)] for t in admitted) == list(range(1, 11))
        before = {t: await _me(other, t) for t in tokens}
    finally:
        await stop_backend(other)

    # A worker stops and starts again: the queue was never in its memory.
    restarted = await start_backend(city.settings.database_url, clock=city.clock)
    try:
        assert {t: await _me(restarted, t) for t in tokens} == before
        city.clock.advance(timedelta(minutes=1))
        assert (await admit_once(restarted.app))["admitted"] == 10
        status = await restarted.http.get(f"/api/staff/rushes/{rush_id}",
                                          headers=city.staff_headers())
        assert status.json()["waiting"] == 10 and status.json()["registering"] == 20
    finally:
        await stop_backend(restarted)


async def test_each_worker_s_own_loop_lets_the_families_in(city: Backend) -> None:
    """The admission step runs by itself in every worker (a Sanic task), with nobody calling
    the staff route: two workers with their loops on, and the rate still holds."""
    loops = [await start_backend(city.settings.database_url, clock=city.clock, background=True,
                                 rush_admit_every_seconds=0.2) for _ in range(2)]
    try:
        await _open(city, rate=6, cap=100)
        tokens = _tokens(city, 10)
        for token in tokens:
            await city.call("POST", "/api/waiting-room/join", token=token, json={})
        city.clock.advance(timedelta(seconds=30))  # 3 families' worth at 6 a minute
        states: list[str] = []
        # until the loops did it (no fixed sleep decides the result; a minute covers a busy CI)
        give_up = asyncio.get_running_loop().time() + 60
        while asyncio.get_running_loop().time() < give_up:
            states = [(await _me(city, t))["status"] for t in tokens]
            if states.count("admitted") >= 3:
                break
            await asyncio.sleep(0.05)
        assert states == ["admitted"] * 3 + ["waiting"] * 7
        # more passes of both loops at the same instant let no one else in
        for _ in range(3):
            await asyncio.gather(*(admit_once(b.app) for b in loops))
        assert [(await _me(city, t))["status"] for t in tokens] == states
    finally:
        for b in loops:
            await stop_backend(b)
