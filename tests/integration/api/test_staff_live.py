"""The staff's live view (docs/STAFF.md "Live view"): who may see it, and that its figures are
the database's after a scripted piece of registration night, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from api_harness import Backend
from registration_night import add_line, database_figures, open_rush, scripted_night
from sql_counter import count_statements


def _compare(view: dict[str, Any], db: dict[str, Any]) -> None:
    shown = {s["id"]: (s["capacity"], s["taken"], s["waitlist"]) for s in view["sessions"]}
    assert shown == db["sessions"]
    orders = {status: (o["orders"], o["total_cents"])
              for status, o in view["payments"]["by_status"].items()}
    assert orders == db["orders"]
    assert view["payments"]["received_cents"] == db["received_cents"]
    totals = view["totals"]
    assert totals["taken"] == sum(t for _, t, _ in db["sessions"].values())
    assert totals["waitlist"] == sum(w for _, _, w in db["sessions"].values())
    assert totals["full_sessions"] == sum(1 for c, t, _ in db["sessions"].values() if t >= c)


async def test_only_the_help_desk_and_coordinators_see_the_live_view(city: Backend) -> None:
    for path in ("/api/staff/live", "/api/staff/live/events"):
        r = await city.http.get(path)
        assert r.status_code == 401 and r.json()["error"]["code"] == "staff_unauthorized"
        # the service secret opens nothing on staff routes
        r = await city.call("GET", path)
        assert r.status_code == 401
        r = await city.http.get(path, headers=city.staff_headers("animator", groups=(1,)))
        assert r.status_code == 403 and r.json()["error"]["code"] == "staff_forbidden"
        assert r.json()["error"]["message"] == "Votre rôle ne permet pas cette action."
    r = await city.http.get("/api/staff/live", headers=city.staff_headers("help_desk"))
    assert r.status_code == 200, r.text


async def test_the_figures_are_the_databases_after_a_scripted_night(city: Backend) -> None:
    night = await scripted_night(city)
    r = await city.http.get("/api/staff/live", headers=city.staff_headers("coordinator"))
    assert r.status_code == 200, r.text
    view = r.json()
    db = database_figures(city.settings.database_url)
    _compare(view, db)

    by_id = {s["id"]: s for s in view["sessions"]}
    full = by_id[night["erables"][1]]
    assert (full["taken"], full["capacity"], full["fill_rate"], full["waitlist"]) == (
        20, 20, 1.0, 2)
    week2 = by_id[night["riviere"][2]]
    assert (week2["taken"], week2["fill_rate"]) == (2, 0.1)
    assert view["payments"]["by_status"] == {
        "paid": {"orders": 1, "total_cents": night["paid"]["total_cents"]},
        "awaiting_payment": {"orders": 1, "total_cents": night["pending"]["total_cents"]},
        # the demo's full week: 20 filler families confirmed without an order are not here
        **{k: v for k, v in view["payments"]["by_status"].items()
           if k not in ("paid", "awaiting_payment")},
    }
    assert view["payments"]["received_cents"] == night["paid"]["total_cents"]
    # the clock did not move since the demo's seed: every place was taken this minute
    taken = sum(t for _, t, _ in db["sessions"].values())
    assert view["series"]["places_taken"][-1] == taken == sum(view["series"]["places_taken"])
    assert view["series"]["payments"][-1] == 1
    assert view["waiting_room"] is None


async def test_the_figures_cost_the_same_statements_whatever_the_night(city: Backend) -> None:
    """A fixed number of statements, however many sessions, lines and orders (no N+1): the
    live view is read every 2 s by every staff page open."""
    headers = city.staff_headers("help_desk")
    engine = city.app.ctx.state.engine

    async def read() -> int:
        with count_statements(engine) as log:
            r = await city.http.get("/api/staff/live", headers=headers)
        assert r.status_code == 200, r.text
        return log.count

    before = await read()
    await scripted_night(city)
    assert await read() == before <= 16
    await open_rush(city, 5, rate=2, cap=50)
    assert await read() <= before + 6  # the waiting room's own few


async def test_the_waiting_room_figures_are_the_coordinators(city: Backend) -> None:
    await scripted_night(city)
    rush = await open_rush(city, 5, rate=2, cap=50)
    assert (rush["waiting"], rush["registering"], rush["pre_queue"]) == (3, 2, 0)
    r = await city.http.get("/api/staff/live", headers=city.staff_headers("help_desk"))
    assert r.status_code == 200, r.text
    view = r.json()
    assert view["waiting_room"] == rush
    assert view["series"]["admissions"][-1] == 2 and sum(view["series"]["admissions"]) == 2
    # a minute later, the night's places and payments are a minute back in the series
    assert view["series"]["places_taken"][-2] > 0 and view["series"]["places_taken"][-1] == 0


async def test_a_hold_that_ran_out_is_not_a_place_taken_as_in_the_catalog(city: Backend) -> None:
    night = await scripted_night(city)
    week4 = night["riviere"][4]
    assert await add_line(city, night["marc"], night["emma"], week4) == "held"
    city.clock.advance(timedelta(minutes=city.settings.hold_minutes + 1))  # no job ran since
    r = await city.http.get("/api/staff/live", headers=city.staff_headers("help_desk"))
    view = {s["id"]: s for s in r.json()["sessions"]}
    assert view[week4]["taken"] == 0
    catalog = (await city.call("GET", "/api/catalog")).json()
    available = {s["id"]: s["available"] for p in catalog["programs"] for g in p["groups"]
                 for s in g["sessions"]}
    assert available == {
        i: max(0, s["capacity"] - s["taken"] - s["waitlist"]) for i, s in view.items()
    }


async def test_the_event_stream_sends_the_figures_then_each_change(city: Backend) -> None:
    headers = city.staff_headers("help_desk")
    night = await scripted_night(city)
    async with city.http.stream("GET", "/api/staff/live/events", headers=headers) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        events = _raw(r.aiter_lines())
        first = await _next_figures(events)
        _compare(first, database_figures(city.settings.database_url))
        cell = next(s for s in first["sessions"] if s["id"] == night["riviere"][3])
        assert cell["taken"] == 1
        assert await add_line(city, night["marc"], night["emma"], night["riviere"][3]) == "held"
        second = await _next_figures(events)
        cell = next(s for s in second["sessions"] if s["id"] == night["riviere"][3])
        assert cell["taken"] == 2
        _compare(second, database_figures(city.settings.database_url))
        # the session revoked while watching: the stream says so and ends
        assert (await city.http.post("/api/staff/logout", headers=headers)).status_code == 200
        assert [kind async for kind, _ in events][-1:] == ["ended"]


async def _raw(lines: Any) -> Any:
    kind, data = "", ""
    async for line in lines:
        if line.startswith("event: "):
            kind = line.removeprefix("event: ")
        elif line.startswith("data: "):
            data = line.removeprefix("data: ")
        elif line == "" and kind:
            yield kind, data
            kind, data = "", ""


async def _next_figures(events: Any) -> dict[str, Any]:
    """The next `figures` event's data (heartbeats and other events skipped)."""
    async for kind, data in events:
        if kind == "figures":
            return dict(json.loads(data))
    raise AssertionError("the stream ended")
