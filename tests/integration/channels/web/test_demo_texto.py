"""The demo phone page (/demo/texto) exists in demo mode only, and offers the demo families' phones.

Run with the backend's environment: `.venv/bin/python -m pytest tests/integration/channels/web`.
The page used in a browser, through the signed SMS channel: tests/browser/test_texto_page.py.
"""

from __future__ import annotations

import pytest
from test_web_page import Site, demo_site, prod_site  # noqa: F401 - fixtures

DEMO_ROUTES = [
    ("GET", "/demo/texto"),
    ("GET", "/demo/texto/messages?phone=%2B14185550101"),
    ("POST", "/demo/texto/send"),
    ("GET", "/demo/texto/static/texto.js"),
    ("GET", "/demo/texto/static/texto.css"),
]


@pytest.mark.parametrize(("method", "path"), DEMO_ROUTES)
async def test_nothing_of_the_phone_page_exists_outside_demo_mode(
    prod_site: Site,  # noqa: F811
    method: str,
    path: str,
) -> None:
    body = {"phone": "+14185550101", "body": "Bonjour"} if method == "POST" else None
    resp = await prod_site.http.request(method, path, json=body)
    assert resp.status_code == 404


async def test_the_phone_page_offers_the_demo_families_phones_in_french(
    demo_site: Site,  # noqa: F811
) -> None:
    resp = await demo_site.http.get("/demo/texto")
    assert resp.status_code == 200
    page = resp.text
    assert '<html lang="fr-CA">' in page
    assert "<h1>Téléphone de démonstration</h1>" in page
    for label in (
        "Julie Tremblay (418 555-0101)",
        "Marc Gagnon (418 555-0102)",
        "Sophie Roy (418 555-0103)",
        "Karim Haddad (581 555-0104)",
        "Un cellulaire inconnu (514 555-0123, au dossier de personne)",
    ):
        assert label in page, label
    assert 'role="log" aria-live="polite"' in page
    assert '<label for="texto-body">Votre texto</label>' in page
    assert "script-src 'self'" in resp.headers["content-security-policy"]
    script = await demo_site.http.get("/demo/texto/static/texto.js")
    assert script.status_code == 200 and "textContent" in script.text


async def test_the_page_texts_only_from_the_phones_it_offers(demo_site: Site) -> None:  # noqa: F811
    resp = await demo_site.http.post(
        "/demo/texto/send", json={"phone": "+15555550000", "body": "Bonjour"}
    )
    assert resp.status_code == 404
    for blank in ("", "   "):
        empty = await demo_site.http.post(
            "/demo/texto/send", json={"phone": "+14185550101", "body": blank}
        )
        assert empty.status_code == 422
        assert empty.json()["error"]["code"] == "invalid_request"
