"""The fiche santé page in a real browser (headless Debian Chromium, Playwright), on the real
backend (in this process, SQLite, demo data, at a set clock): a parent opens Thomas's link,
sends the form with a wrong phone and an unanswered authorisation, reads each error beside its
field, corrects them and saves; the page passes axe-core (WCAG 2.1 AA) before and after the
errors, and the backend holds the fiche.

    .venv/bin/python -m pytest tests/browser/test_health_form_page.py
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from axe_check import rules_run, violations
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration" / "api"))

from api_harness import Backend, identify, seed_demo_data, start_backend, stop_backend  # noqa: E402
from served import CHROMIUM, CHROMIUM_ARGS, ServingLoop  # noqa: E402

from backend.adapters.clock import ManualClock, from_local  # noqa: E402
from backend.db.engine import make_engine  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServingLoop, Backend]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('sante') / 'sante.db'}"
    clock = ManualClock(from_local(datetime(2027, 4, 20, 19, 0)))
    seed_demo_data(url, clock)
    loop = ServingLoop()
    backend = loop.run(start_backend(url, clock=clock))
    try:
        yield loop, backend
    finally:
        loop.run(stop_backend(backend))
        loop.close()


async def _thomas_link(city: Backend) -> str:
    me = await identify(city, "100001", "418-555-0101")
    r = await city.call("POST", "/api/family/health-links", token=me["family_token"])
    assert r.status_code == 200, r.text
    (thomas,) = [c for c in r.json()["children"] if c["first_name"] == "Thomas"]
    return str(thomas["url"])


def _describe(found: list[dict[str, Any]]) -> str:
    return "\n".join(f"{v['id']} ({v['impact']}): {v['help']} {v['nodes']}" for v in found)


def _fiche(backend: Backend) -> tuple[Any, ...] | None:
    engine = make_engine(backend.settings.database_url)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT h.allergies, h.emergency_contact_phone, h.may_photograph, "
                    "h.may_leave_alone FROM health_record h JOIN person p ON p.id = h.person_id "
                    "WHERE p.first_name = 'Thomas'"
                )
            ).one_or_none()
    finally:
        engine.dispose()
    return None if row is None else tuple(row)


def test_a_parent_fills_the_fiche_sante_and_corrects_the_errors_shown(
    city: tuple[ServingLoop, Backend],
) -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: apt-get install -y chromium (make chromium)")
    from playwright.sync_api import expect, sync_playwright

    loop, backend = city
    link = loop.run(_thomas_link(backend))
    before = _fiche(backend)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = chromium.new_page(locale="fr-CA", viewport={"width": 390, "height": 844})
            page.goto(link)
            expect(page.locator("h1")).to_have_text("Fiche santé de Thomas")
            assert rules_run(page) > 40
            found = violations(page)
            assert found == [], _describe(found)

            page.get_by_label("Allergies").fill("Pollen")
            page.get_by_role("group", name="Thomas doit avoir un auto-injecteur").get_by_label(
                "Non"
            ).check()
            page.get_by_label("Téléphone de la personne à joindre").fill("555-12")
            page.get_by_role("group", name="J'autorise le personnel").get_by_label("Oui").check()
            page.get_by_role("group", name="J'autorise la Ville").get_by_label("Non").check()
            page.get_by_role("button", name="Enregistrer la fiche santé").click()

            summary = page.get_by_role("alert")
            expect(summary).to_contain_text("2 renseignements sont à corriger")
            phone = page.get_by_label("Téléphone de la personne à joindre")
            expect(phone).to_have_attribute("aria-invalid", "true")
            expect(page.locator("#contact_phone-erreur")).to_contain_text(
                "Ce numéro de téléphone n'est pas valide"
            )
            expect(page.locator("#leave_alone-erreur")).to_contain_text("Choisissez Oui ou Non.")
            # What was typed is still there; nothing was saved.
            expect(page.get_by_label("Allergies")).to_have_value("Pollen")
            assert _fiche(backend) == before
            found = violations(page)
            assert found == [], _describe(found)

            # The summary's link takes the parent to the field.
            summary.get_by_role("link", name="Téléphone de la personne à joindre").click()
            expect(phone).to_be_focused()
            phone.fill("418 555-0101")
            page.get_by_role("group", name="peut quitter le camp seul").get_by_label("Non").check()
            page.get_by_role("button", name="Enregistrer la fiche santé").click()
            expect(page.get_by_role("status")).to_contain_text(
                "La fiche santé de Thomas est enregistrée"
            )
            found = violations(page)
            assert found == [], _describe(found)
        finally:
            chromium.close()

    assert _fiche(backend) == ("Pollen", "+14185550101", False, False)
