"""The fiche santé over HTTP, SQLite and PostgreSQL, demo city at a set clock: the bot's route
gives the identified family one signed link per child; the page is French, says each problem
beside its field, saves only a right form and never shows the health-insurance number back;
a forged link gets a French refusal; the animators' route reads a fiche of their group only,
and the audit log shows the read without a health detail."""

from __future__ import annotations

import re
from typing import Any

from api_harness import Backend, identify
from sqlalchemy import text

from backend.db.engine import make_engine

FORM = {
    "allergies": "Noix",
    "epipen": "oui",
    "medication": "Ventolin au besoin",
    "conditions": "Asthme",
    "insurance_number": "TREM 2004 0312",
    "insurance_expiry": "08/2029",
    "contact_name": "Julie Tremblay",
    "contact_relation": "Mère",
    "contact_phone": "418 555-0101",
    "first_aid": "oui",
    "photos": "oui",
    "leave_alone": "non",
}


async def _links(city: Backend) -> dict[str, dict[str, Any]]:
    me = await identify(city, "100001", "418-555-0101")
    r = await city.call("POST", "/api/family/health-links", token=me["family_token"])
    assert r.status_code == 200, r.text
    return {c["first_name"]: c for c in r.json()["children"]}


def _path(url: str) -> str:
    return "/sante/" + url.split("/sante/")[1]


async def test_the_family_fills_the_form_through_its_link(city: Backend) -> None:
    links = await _links(city)
    assert set(links) == {"Léa", "Thomas"}
    assert links["Léa"]["complete"] is True and links["Thomas"]["complete"] is False
    path = _path(links["Thomas"]["url"])

    page = await city.call("GET", path, auth=False)
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "script-src" not in page.headers["content-security-policy"]
    assert "<h1>Fiche santé de Thomas</h1>" in page.text
    assert '<label for="contact_phone">' in page.text and 'lang="fr-CA"' in page.text

    wrong = await city.call(
        "POST", path, auth=False,
        data={**FORM, "contact_phone": "555", "insurance_number": "ABC", "photos": ""},
    )
    assert wrong.status_code == 422
    assert "3 renseignements sont à corriger" in wrong.text
    # Each error sits with its field, which points to it.
    assert re.search(
        r'<p class="field-error" id="contact_phone-erreur">.*?</p><input type="tel" '
        r'id="contact_phone" name="contact_phone" aria-describedby="contact_phone-aide '
        r'contact_phone-erreur" aria-invalid="true"',
        wrong.text,
    ), wrong.text
    assert "Ce numéro de téléphone n&#x27;est pas valide" in wrong.text
    assert "Choisissez Oui ou Non." in wrong.text
    assert 'value="Noix"' not in wrong.text and ">Noix</textarea>" in wrong.text  # kept
    assert await _thomas_record(city) is None or not (await _thomas_record(city))["photos"]

    saved = await city.call("POST", path, auth=False, data=FORM)
    assert saved.status_code == 200, saved.text
    assert "La fiche santé de Thomas est enregistrée" in saved.text
    record = await _thomas_record(city)
    assert record == {"allergies": "Noix", "photos": True, "phone": "+14185550101"}

    again = await city.call("GET", path, auth=False)
    assert "se terminant par 0312" in again.text
    assert "20040312" not in again.text and ">Noix</textarea>" in again.text
    assert (await _links(city))["Thomas"]["complete"] is True


async def _thomas_record(city: Backend) -> dict[str, Any] | None:
    engine = make_engine(city.settings.database_url)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT h.allergies, h.may_photograph, h.emergency_contact_phone "
                    "FROM health_record h JOIN person p ON p.id = h.person_id "
                    "WHERE p.first_name = 'Thomas'"
                )
            ).one_or_none()
    finally:
        engine.dispose()
    if row is None:
        return None
    return {"allergies": row[0], "photos": row[1], "phone": row[2]}


async def test_a_forged_link_or_no_family_gets_a_french_refusal(city: Backend) -> None:
    links = await _links(city)
    path = _path(links["Léa"]["url"])
    forged = path[:-1] + ("0" if path[-1] != "0" else "1")
    page = await city.call("GET", forged, auth=False)
    assert page.status_code == 404
    assert "Ce lien vers la fiche santé n&#x27;est pas valide" in page.text
    assert "Arachides" not in page.text
    posted = await city.call("POST", forged, auth=False, data=FORM)
    assert posted.status_code == 404
    r = await city.call("POST", "/api/family/health-links")
    assert r.status_code == 401


def _confirmed_child(city: Backend) -> tuple[int, int, int]:
    """(child id, their group, another group) of a child the demo registered (confirmed)."""
    engine = make_engine(city.settings.database_url)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT l.person_id, s.group_id FROM line l JOIN session s "
                    "ON s.id = l.session_id WHERE l.status = 'confirmed' ORDER BY l.id LIMIT 1"
                )
            ).one()
            other = conn.execute(
                text("SELECT MIN(id) FROM activity_group WHERE id != :g"), {"g": row[1]}
            ).scalar_one()
    finally:
        engine.dispose()
    return int(row[0]), int(row[1]), int(other)


async def test_only_an_animator_of_the_childs_group_reads_the_fiche_and_it_is_audited(
    city: Backend,
) -> None:
    child, group, other = _confirmed_child(city)
    path = f"/api/staff/children/{child}/health"
    for headers in (
        city.staff_headers("animator", groups=(other,)),
        city.staff_headers("help_desk"),
        city.staff_headers("coordinator"),
    ):
        r = await city.call("GET", path, auth=False, headers=headers)
        assert r.status_code == 403 and r.json()["error"]["code"] == "staff_forbidden"
    r = await city.call("GET", path, auth=False)
    assert r.status_code == 401

    r = await city.call(
        "GET", path, auth=False, headers=city.staff_headers("animator", groups=(group,))
    )
    assert r.status_code == 200, r.text
    assert r.json()["child_id"] == child

    audit = await city.call(
        "GET", "/api/staff/audit", auth=False, headers=city.staff_headers("coordinator")
    )
    entries = [e for e in audit.json()["entries"] if e["action"] == "health_record_read"]
    assert len(entries) == 1
    assert entries[0]["target_id"] == str(child) and entries[0]["actor"].startswith("animator")
    assert set(entries[0]["detail"]) == {"record_on_file"}
