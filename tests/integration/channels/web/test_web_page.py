"""The city page with the chat widget, served by the real backend on SQLite with the demo data.

Run with the backend's environment: `.venv/bin/python -m pytest tests/integration/channels/web`.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend.adapters.clock import ManualClock, from_local
from backend.api.web import render_page
from backend.app import create_app
from backend.db.base import Base
from backend.db.engine import make_engine, make_session_factory, transaction
from backend.demo import seed_demo
from backend.services.widget_token import mint_widget_token, verify_widget_token
from backend.settings import Settings

SERVICE = "test-service-secret"
WIDGET_SECRET = "test-widget-secret"
START = from_local(datetime(2027, 4, 20, 19, 0))
ROOT = Path(__file__).resolve().parents[4]


@dataclass
class Site:
    http: httpx.AsyncClient
    clock: ManualClock
    settings: Settings


async def _start(tmp_path: Path, demo_mode: bool) -> AsyncIterator[Site]:
    url = f"sqlite:///{tmp_path / 'web.db'}"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    clock = ManualClock(START)
    with transaction(make_session_factory(engine)) as db:
        seed_demo(db, clock=clock)
    engine.dispose()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    settings = Settings(database_url=url, demo_mode=demo_mode, service_secret=SERVICE,
                        widget_secret=WIDGET_SECRET, public_base_url=f"http://127.0.0.1:{port}")
    app = create_app(settings, clock=clock, background=False)
    server: Any = await app.create_server(host="127.0.0.1", port=port,
                                          return_asyncio_server=True, access_log=False)
    await server.startup()
    await server.before_start()
    await server.after_start()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
        try:
            yield Site(http, clock, settings)
        finally:
            await server.before_stop()
            await server.close()
            await server.after_stop()


@pytest.fixture
async def demo_site(tmp_path: Path) -> AsyncIterator[Site]:
    async for site in _start(tmp_path, demo_mode=True):
        yield site


@pytest.fixture
async def prod_site(tmp_path: Path) -> AsyncIterator[Site]:
    async for site in _start(tmp_path, demo_mode=False):
        yield site


def _config(page: str) -> dict[str, Any]:
    pattern = r'<script type="application/json" id="chat-config">(.*?)</script>'
    match = re.search(pattern, page, re.S)
    assert match, "the widget's configuration block is on the page"
    return dict(json.loads(match.group(1)))


async def test_the_page_looks_like_the_city_registration_page(demo_site: Site) -> None:
    resp = await demo_site.http.get("/")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/html")
    page = resp.text
    assert '<html lang="fr-CA">' in page
    assert "<h1>Inscriptions aux activités</h1>" in page
    assert "Ville de Val-Fleuri" in page
    assert "418 555-0199" in page  # the help line from the settings
    # The widget: a labelled input, a live log, the socket.io client served locally.
    assert '<label for="chat-input"' in page
    assert 'role="log" aria-live="polite"' in page
    assert '<script src="/static/vendor/socket.io.min.js">' in page
    assert "cdn" not in page.lower()
    config = _config(page)
    assert config["socketUrl"] == "http://localhost:5005"
    assert config["strings"]["send"] == "Envoyer"


async def test_the_page_allows_scripts_only_from_itself_and_the_socket_to_rasa(
    demo_site: Site,
) -> None:
    csp = (await demo_site.http.get("/")).headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "connect-src 'self' http://localhost:5005 ws://localhost:5005" in csp


async def test_the_rasa_url_comes_from_the_configuration(
    demo_site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RASA_URL", "https://chat.val-fleuri.example/")
    resp = await demo_site.http.get("/")
    assert _config(resp.text)["socketUrl"] == "https://chat.val-fleuri.example"
    assert "wss://chat.val-fleuri.example" in resp.headers["content-security-policy"]


async def test_static_files_are_served(demo_site: Site) -> None:
    js = await demo_site.http.get("/static/chat.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert "innerHTML" not in js.text  # conversation text is never parsed as HTML
    css = await demo_site.http.get("/static/chat.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]
    vendor = await demo_site.http.get("/static/vendor/socket.io.min.js")
    assert vendor.status_code == 200, "run scripts/fetch-socketio-client.sh (make does it)"
    assert "Socket.IO v4" in vendor.text[:200]


async def test_demo_mode_offers_the_demo_families(demo_site: Site) -> None:
    page = (await demo_site.http.get("/")).text
    assert "Se connecter comme" in page
    for name, number in [("Julie Tremblay", "100001"), ("Marc Gagnon", "100002"),
                         ("Sophie Roy", "100003"), ("Karim Haddad", "100004")]:
        assert f'<option value="{number}">{name} ({number})</option>' in page
    assert _config(page)["demo"]["tokenUrl"] == "/demo/widget-token"


async def test_demo_token_identifies_the_family_through_the_backend(demo_site: Site) -> None:
    resp = await demo_site.http.post("/demo/widget-token", json={"client_number": "100001"})
    assert resp.status_code == 200
    token = resp.json()["widget_token"]
    assert verify_widget_token(token, WIDGET_SECRET, demo_site.clock.now()) == "100001"
    # What the bot's actions do with the token from the message metadata.
    identified = await demo_site.http.post(
        "/api/identify/widget", json={"widget_token": token},
        headers={"Authorization": f"Bearer {SERVICE}"},
    )
    assert identified.status_code == 200
    body = identified.json()
    assert body["family"]["client_number"] == "100001"
    assert body["family_token"]


async def test_forged_or_expired_widget_tokens_are_refused(demo_site: Site) -> None:
    headers = {"Authorization": f"Bearer {SERVICE}"}
    forged = mint_widget_token("100001", "not-the-city-secret", demo_site.clock.now())
    resp = await demo_site.http.post("/api/identify/widget", json={"widget_token": forged},
                                     headers=headers)
    assert resp.status_code == 401
    genuine = (await demo_site.http.post("/demo/widget-token",
                                         json={"client_number": "100002"})).json()["widget_token"]
    demo_site.clock.advance(timedelta(minutes=16))
    resp = await demo_site.http.post("/api/identify/widget", json={"widget_token": genuine},
                                     headers=headers)
    assert resp.status_code == 401


async def test_demo_tokens_only_for_demo_families(demo_site: Site) -> None:
    resp = await demo_site.http.post("/demo/widget-token", json={"client_number": "999999"})
    assert resp.status_code == 404


async def test_outside_demo_mode_nothing_demo_exists(prod_site: Site) -> None:
    page = (await prod_site.http.get("/")).text
    assert "Se connecter comme" not in page
    assert _config(page)["demo"] is None
    resp = await prod_site.http.post("/demo/widget-token", json={"client_number": "100001"})
    assert resp.status_code == 404


def test_configuration_block_cannot_be_closed_by_its_content() -> None:
    page = render_page(city="</script><b>Val-Fleuri</b>", city_phone="<i>x</i>",
                       city_hours="&", demo_mode=True)
    assert "<b>Val-Fleuri</b>" not in page
    assert "<i>x</i>" not in page
    assert page.count("</script>") == 3  # the JSON block and the two script tags
