"""Staff CSV exports (docs/STAFF.md "Exports"): what a coordinator and an animator download,
who may, what the audit log keeps, and that a family's words cannot become a formula."""

from __future__ import annotations

import csv
import io
import json

from api_harness import Backend, camp_sessions, identify
from sqlalchemy import select

from backend.db.access import AuditEntry
from backend.db.engine import make_engine, make_session_factory, transaction
from backend.db.models import Person
from backend.db.models import Session as ActivitySession


def _rows(body: bytes) -> list[dict[str, str]]:
    decoded = body.decode("utf-8")
    assert decoded.startswith("\ufeff")  # Excel opens UTF-8 with its accents intact
    return list(csv.DictReader(io.StringIO(decoded.removeprefix("\ufeff")), delimiter=";"))


def _audit(url: str, action: str) -> list[AuditEntry]:
    engine = make_engine(url)
    try:
        with transaction(make_session_factory(engine)) as db:
            rows = db.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()
            db.expunge_all()
            return list(rows)
    finally:
        engine.dispose()


async def _register_lea(city: Backend) -> int:
    """Léa (Julie's daughter, 9 at 30 September) confirmed in week 2 of the 9-12 ans at Parc de
    la Rivière, in a deferred season (confirmed without payment): that group's id."""
    r = await city.call("PATCH", "/api/staff/seasons/1", json={"payment_mode": "deferred"},
                        headers=city.staff_headers("coordinator"))
    assert r.status_code == 200, r.text
    me = await identify(city, "100001", "418-555-0101")
    token = str(me["family_token"])
    lea = next(c for c in me["family"]["children"] if c["first_name"] == "Léa")
    sessions = await camp_sessions(city, "Parc de la Rivière", "9-12 ans")
    r = await city.call("POST", "/api/cart/lines", token=token,
                        json={"child_id": lea["id"], "session_ids": [sessions[2]],
                              "tshirt_size": "P"})
    assert r.status_code == 200 and r.json()["results"][0]["outcome"] == "held", r.text
    r = await city.call("POST", "/api/checkout", token=token,
                        json={"installments": 1, "accept_terms": True, "idempotency_key": "x-1"})
    assert r.status_code == 201, r.text
    engine = make_engine(city.settings.database_url)
    try:
        with transaction(make_session_factory(engine)) as db:
            session = db.get(ActivitySession, sessions[2])
            assert session is not None
            return session.group_id
    finally:
        engine.dispose()


def _rename(url: str, first_name: str, new: str) -> None:
    engine = make_engine(url)
    try:
        with transaction(make_session_factory(engine)) as db:
            person = db.scalars(select(Person).where(Person.first_name == first_name)).one()
            person.last_name = new
            if person.health is not None:
                person.health.medication = "-1+1"
    finally:
        engine.dispose()


async def test_a_coordinator_exports_the_seasons_registrations(city: Backend) -> None:
    group_id = await _register_lea(city)
    # A parent typed a formula as their name: the spreadsheet must show it, not run it.
    _rename(city.settings.database_url, "Léa", '=HYPERLINK("http://x.example","clic")')

    r = await city.http.get("/api/staff/exports/registrations.csv", params={"season_id": 1},
                            headers=city.staff_headers("coordinator"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = _rows(r.content)
    [row] = [r for r in rows if r["child_first_name"] == "Léa"]
    assert row["client_number"] == "100001" and row["child_first_name"] == "Léa"
    assert row["child_last_name"].startswith("'=HYPERLINK")
    assert row["week"] == "2" and row["status"] == "confirmed" and row["tshirt_size"] == "P"
    assert row["age_30_september"] == "9"

    r = await city.http.get("/api/staff/exports/registrations.csv",
                            params={"season_id": 1, "group_id": group_id + 1000},
                            headers=city.staff_headers("coordinator"))
    assert r.status_code == 404
    [entry] = _audit(city.settings.database_url, "export_registrations")
    assert entry.target_id == "1" and entry.actor.startswith("coordinator")
    assert json.loads(entry.detail) == {"group_id": None, "rows": len(rows)}


async def test_only_the_groups_animators_export_its_health_records(city: Backend) -> None:
    group_id = await _register_lea(city)
    _rename(city.settings.database_url, "Léa", "Tremblay")
    url = city.settings.database_url

    for headers in (city.staff_headers("help_desk"), city.staff_headers("coordinator"),
                    city.staff_headers("animator", groups=(group_id + 1,))):
        r = await city.http.get(f"/api/staff/exports/groups/{group_id}/health.csv",
                                headers=headers)
        assert r.status_code == 403, r.text
    assert _audit(url, "export_health") == []

    r = await city.http.get(f"/api/staff/exports/groups/{group_id}/health.csv",
                            headers=city.staff_headers("animator", groups=(group_id,)))
    assert r.status_code == 200, r.text
    children = _rows(r.content)
    [row] = [r for r in children if r["child_first_name"] == "Léa"]
    assert row["allergies"] == "Arachides"
    assert row["medication"] == "'-1+1" and row["glasses"] == "non"
    assert row["weeks"] == "2"

    [entry] = _audit(url, "export_health")
    assert entry.target_type == "group" and entry.target_id == str(group_id)
    assert "Arachides" not in entry.detail
    assert json.loads(entry.detail) == {"children": len(children)}
