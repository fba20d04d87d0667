"""The staff's live view `/staff` in a real browser (headless Debian Chromium, Playwright), on
the real backend (in this process, the demo city, at a set clock) and a real localstripe, on
SQLite and on PostgreSQL: a coordinator logs in after a scripted piece of registration night;
every cell of the heat map, the waitlists and the payments shown are the database's figures,
read with SQL of the test's own; a new registration reaches the open page without a reload;
the page passes axe-core (WCAG 2.1 AA); an animator is refused. The screenshot is kept in
tests/artifacts/.

    .venv/bin/python -m pytest tests/browser/test_staff_page.py
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_check import rules_run, violations

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration" / "api"))

from api_harness import (  # noqa: E402
    STAFF_PASSWORD,
    START,
    Backend,
    add_staff,
    database_url,  # noqa: F401  (the SQLite / PostgreSQL parameter)
    seed_demo_data,
    start_backend,
    stop_backend,
)
from registration_night import add_line, database_figures, open_rush, scripted_night  # noqa: E402
from served import CHROMIUM, CHROMIUM_ARGS, ServingLoop  # noqa: E402

from backend.adapters.clock import ManualClock  # noqa: E402

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.fixture
def night(database_url: str) -> Iterator[tuple[ServingLoop, Backend, dict[str, Any]]]:  # noqa: F811
    clock = ManualClock(START)
    seed_demo_data(database_url, clock)
    add_staff(database_url, "coordo-test", "coordinator", clock=clock)
    add_staff(database_url, "anim-test", "animator", clock=clock, groups=(1,))
    loop = ServingLoop()
    backend = loop.run(start_backend(database_url, clock=clock, staff_live_poll_seconds=0.5))
    try:
        done = loop.run(scripted_night(backend))
        yield loop, backend, done
    finally:
        loop.run(stop_backend(backend))
        loop.close()


def _plain(text: str) -> str:
    """Intl's no-break and narrow no-break spaces as plain ones."""
    return re.sub(r"[\u00a0\u202f ]+", " ", text).strip()


def _percent(taken: int, capacity: int) -> str:
    rate = round(taken / capacity, 4) if capacity else 0.0
    return f"{math.floor(rate * 100 + 0.5)} %"


def _money(cents: int) -> str:
    dollars = f"{cents // 100:,}".replace(",", " ")
    return f"{dollars},{cents % 100:02d} $"


def _describe(found: list[dict[str, Any]]) -> str:
    return "\n".join(f"{v['id']} ({v['impact']}): {v['help']} {v['nodes']}" for v in found)


def _cells(page: Any) -> dict[int, tuple[str, str, str]]:
    """Each heat-map cell as shown: (rate, places, the rest: full, waiting)."""
    rows = page.evaluate(
        """() => Array.from(document.querySelectorAll('td[id^="cell-"]')).map((td) => [
             td.id.slice(5), td.querySelector('.rate').textContent,
             td.querySelector('.places').textContent,
             Array.from(td.querySelectorAll('.wait')).map((s) => s.textContent).join(' | ')])"""
    )
    return {int(i): (_plain(r), _plain(p), _plain(w)) for i, r, p, w in rows}


def _expected_cell(capacity: int, taken: int, waiting: int) -> tuple[str, str, str]:
    rest = (["Complet"] if taken >= capacity else []) + (
        [f"{waiting} en attente"] if waiting else []
    )
    return _percent(taken, capacity), f"{taken} sur {capacity}", " | ".join(rest)


def _log_in(page: Any, username: str, password: str) -> None:
    page.get_by_label("Nom d'utilisateur").fill(username)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()


def test_a_coordinator_watches_registration_night_live(
    night: tuple[ServingLoop, Backend, dict[str, Any]], request: pytest.FixtureRequest
) -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: apt-get install -y chromium (make chromium)")
    from playwright.sync_api import expect, sync_playwright

    loop, backend, done = night
    db_name = request.node.callspec.params["database_url"]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = chromium.new_page(locale="fr-CA", viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(f"{backend.base_url}/staff")
            expect(page.get_by_role("heading", name="Connexion du personnel")).to_be_visible()
            found = violations(page)
            assert not found, _describe(found)

            _log_in(page, "coordo-test", "pas le bon mot de passe")
            expect(page.locator("#login-error")).to_have_text(
                "Nom d'utilisateur ou mot de passe incorrect."
            )
            _log_in(page, "coordo-test", STAFF_PASSWORD)
            expect(page.locator("#who")).to_have_text("Connecté : coordo-test")
            full, week3 = done["erables"][1], done["riviere"][3]
            expect(page.locator(f"#cell-{full} .places")).to_have_text("20 sur 20")

            # Every cell, the waitlists, the payments: the database's figures.
            db = database_figures(backend.settings.database_url)
            shown = _cells(page)
            assert shown == {
                sid: _expected_cell(c, t, w) for sid, (c, t, w) in db["sessions"].items()
            }
            assert shown[full] == ("100 %", "20 sur 20", "Complet | 2 en attente")
            waiting = {sid: w for sid, (_, _, w) in db["sessions"].items() if w}
            listed = page.evaluate(
                """() => Array.from(document.querySelectorAll('tr[id^="attente-"]'))
                     .map((tr) => [tr.id.slice(8), tr.lastElementChild.textContent])"""
            )
            assert {int(i): int(n) for i, n in listed} == waiting == {full: 2}
            for status, (orders, cents) in db["orders"].items():
                row = page.locator(f"#paiement-{status}")
                expect(row.locator(".orders")).to_have_text(str(orders))
                assert _plain(row.locator(".amount").inner_text()) == _money(cents)
            assert db["orders"]["paid"] == (1, done["paid"]["total_cents"])
            assert db["orders"]["awaiting_payment"] == (1, done["pending"]["total_cents"])
            assert _plain(page.locator("#total-recu").inner_text()) == _money(
                db["received_cents"]
            )
            taken = sum(t for _, t, _ in db["sessions"].values())
            capacity = sum(c for c, _, _ in db["sessions"].values())
            assert _plain(page.locator("#total-places").inner_text()) == (
                f"{taken} sur {capacity:,} ({_percent(taken, capacity)})".replace(",", " ")
            )
            expect(page.locator("#salle-aucune")).to_have_text(
                "Aucune salle d'attente ouverte pour cette saison."
            )
            expect(page.locator("#plot-places-texte")).to_contain_text(f"Total : {taken}")

            # A new registration reaches the open page, without a reload.
            page.evaluate("() => { window.stillTheSamePage = true; }")
            assert shown[week3][1] == "1 sur 20"
            outcome = loop.run(add_line(backend, done["marc"], done["emma"], week3))
            assert outcome == "held"
            expect(page.locator(f"#cell-{week3} .places")).to_have_text("2 sur 20", timeout=15000)
            assert page.evaluate("() => window.stillTheSamePage === true")
            assert _cells(page)[week3] == _expected_cell(
                *database_figures(backend.settings.database_url)["sessions"][week3]
            )

            # The waiting room opens: its figures arrive too, as the coordinator's status.
            rush = loop.run(open_rush(backend, 5, rate=2, cap=50))
            expect(page.locator("#salle-etat")).to_have_text("En cours", timeout=15000)
            expect(page.locator("#salle-file")).to_have_text(str(rush["waiting"]))
            expect(page.locator("#salle-inscription")).to_have_text(str(rush["registering"]))
            expect(page.locator("#salle-debit")).to_have_text(
                f"{rush['admitted_per_minute']:g}".replace(".", ",")
            )
            wait = rush["estimated_wait_minutes"]
            expect(page.locator("#salle-attente")).to_have_text(
                "inconnue" if wait is None else f"{wait} min"
            )
            expect(page.locator("#plot-admissions-texte")).to_contain_text("Total : 2")

            found = violations(page)
            assert not found, _describe(found)
            assert rules_run(page) > 20
            page.screenshot(path=str(ARTIFACTS / f"browser-staff-live-{db_name}.png"),
                            full_page=True)

            # Logging out ends the session; an animator is refused the figures.
            page.get_by_role("button", name="Se déconnecter").click()
            expect(page.get_by_role("heading", name="Connexion du personnel")).to_be_visible()
            _log_in(page, "anim-test", STAFF_PASSWORD)
            expect(page.locator("#tableau-erreur")).to_have_text(
                "Votre rôle ne permet pas de voir cette page."
            )
            expect(page.locator("td[id^='cell-']")).to_have_count(0)
            assert not errors, errors
        finally:
            chromium.close()
