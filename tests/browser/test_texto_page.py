"""The demo phone page and the chat widget in headless Chromium: texting through the signed SMS
channel, and axe-core's WCAG 2.1 AA check of both pages.

Servers, each a real process: the backend (demo mode, SQLite, demo data) serving both pages; the
demo's Twilio stand-in (backend/demo_twilio.py, as `make run` starts it); and Rasa's Sanic app
with the real web chat and SMS channels (tests/integration/channels/sms/sms_app.py: a recording
stand-in for the conversation, its turns saved in a real tracker store). The page's texts reach
Rasa signed with the demo auth token; the replies reach the page through the stand-in.

    .venv/bin/python -m pytest tests/browser/test_texto_page.py
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from axe_check import rules_run, violations
from served import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
SERVICE = "texto-service-secret"
ACCOUNT_SID = "AC00000000000000000000000000000000"
AUTH_TOKEN = "demo-twilio-auth-token"  # the demo token documented in docs/CHANNELS.md
CITY_NUMBER = "+14185550199"
MARC = "+14185550102"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(log.read_text(errors="replace")[-3000:])
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer; see {log}")
        time.sleep(0.3)


@dataclass
class Servers:
    backend_url: str
    twilio_url: str
    record: Path

    def received(self) -> list[dict[str, Any]]:
        if not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text("utf-8").splitlines()]


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: apt-get install -y chromium (make chromium)")
    tmp = tmp_path_factory.mktemp("texto")
    rasa_port, backend_port, twilio_port = _free_port(), _free_port(), _free_port()
    rasa_url = f"http://127.0.0.1:{rasa_port}"
    backend_url = f"http://127.0.0.1:{backend_port}"
    twilio_url = f"http://127.0.0.1:{twilio_port}"
    credentials = tmp / "credentials.yml"
    credentials.write_text(
        "bot.channels.webchat.WebChatInput:\n  user_message_evt: user_uttered\n"
        "  bot_message_evt: bot_uttered\n  session_persistence: true\n"
        "bot.channels.twilio_sms.SignedTwilioInput:\n"
        f'  account_sid: "{ACCOUNT_SID}"\n  auth_token: "{AUTH_TOKEN}"\n'
        f'  twilio_number: "{CITY_NUMBER}"\n  public_url: "{rasa_url}"\n',
        encoding="utf-8",
    )
    record = tmp / "received.jsonl"
    twilio = {
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_API_BASE": twilio_url,
    }
    backend_env = {
        **os.environ,
        **twilio,
        "DATABASE_URL": f"sqlite:///{tmp / 'texto.db'}",
        "DEMO_MODE": "1",
        "SERVICE_SECRET": SERVICE,
        "BACKEND_HOST": "127.0.0.1",
        "BACKEND_PORT": str(backend_port),
        "RASA_URL": rasa_url,
        "TWILIO_PUBLIC_URL": rasa_url,
        "SMS_BACKEND": "twilio",
        "TWILIO_FROM_NUMBER": CITY_NUMBER,
        "PYTHONUNBUFFERED": "1",
    }
    bot_env = {
        **os.environ,
        **twilio,
        "PYTHONPATH": str(ROOT),
        "RASA_TELEMETRY_ENABLED": "false",
        "CONVERSATION_SECRET": "texto-conversation-secret",
        "BACKEND_URL": backend_url,
        "SERVICE_SECRET": SERVICE,
    }
    bot_env.pop("REDIS_URL", None)
    app_py = str(ROOT / ".venv" / "bin" / "python")
    subprocess.run(
        [app_py, "-m", "backend.demo"],
        cwd=ROOT,
        env=backend_env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    logs = {name: tmp / f"{name}.log" for name in ("twilio", "backend", "rasa")}
    argv = {
        "twilio": [app_py, "-m", "backend.demo_twilio", "--port", str(twilio_port)],
        "backend": [app_py, "-m", "backend"],
        "rasa": [
            str(ROOT / ".venv-bot/bin/python"),
            str(ROOT / "tests/integration/channels/sms/sms_app.py"),
            "--port",
            str(rasa_port),
            "--credentials",
            str(credentials),
            "--record",
            str(record),
            "--trackers",
            str(tmp / "trackers.db"),
            "--cors",
            backend_url,
        ],
    }
    envs = {"twilio": backend_env, "backend": backend_env, "rasa": bot_env}
    procs: dict[str, subprocess.Popen[bytes]] = {}
    files = {name: path.open("wb") for name, path in logs.items()}
    try:
        for name in ("twilio", "backend", "rasa"):
            procs[name] = subprocess.Popen(
                argv[name], cwd=ROOT, env=envs[name], stdout=files[name], stderr=subprocess.STDOUT
            )
        _wait(f"{twilio_url}/health", procs["twilio"], logs["twilio"], 120)
        _wait(f"{backend_url}/health", procs["backend"], logs["backend"], 240)
        _wait(f"{rasa_url}/webhooks/twilio_sms/", procs["rasa"], logs["rasa"], 240)
        yield Servers(backend_url, twilio_url, record)
    finally:
        for proc in procs.values():
            proc.terminate()
            proc.wait(timeout=20)
        for fp in files.values():
            fp.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _describe(found: list[dict[str, Any]]) -> str:
    return "\n".join(f"{v['id']} ({v['impact']}): {v['help']} {v['nodes']}" for v in found)


def test_a_visitor_texts_the_bot_as_marc_and_reads_its_replies_like_on_a_phone(
    servers: Servers, browser: Any
) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(
        viewport={"width": 390, "height": 844}, locale="fr-CA", is_mobile=True, has_touch=True
    )
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{servers.backend_url}/demo/texto")
    expect(page.get_by_role("heading", level=1)).to_have_text("Téléphone de démonstration")
    page.get_by_label("Écrire à partir du cellulaire de").select_option(MARC)
    thread = page.get_by_role("log", name="Textos échangés")
    expect(thread).to_contain_text("Aucun texto pour l'instant")

    page.get_by_label("Votre texto").fill("choix")
    page.get_by_role("button", name="Envoyer").click()
    question = page.locator("#texto-thread li.out").last
    expect(question).to_contain_text("Pour quel enfant?", timeout=15_000)
    expect(question).to_contain_text("1. Léa")
    expect(page.locator("#texto-thread li.in").last).to_contain_text("choix")
    expect(page.get_by_label("Votre texto")).to_have_value("")

    # A bare number answers the menu, through the channel's reading of the tracker store.
    page.get_by_label("Votre texto").fill("2")
    page.keyboard.press("Enter")
    expect(page.locator("#texto-thread li.out").last).to_have_text(
        'Reçu du 418 555-0199 : Reçu : /choisir_enfant{"enfant": "Thomas"}', timeout=15_000
    )
    texts = [m["text"] for m in servers.received()]
    assert texts[-2:] == ["choix", '/choisir_enfant{"enfant": "Thomas"}']

    # What the stand-in received for that phone, in order: what the page shows.
    thread_json = httpx.get(f"{servers.twilio_url}/demo/messages", params={"phone": MARC}).json()
    assert [(m["direction"], m["body"]) for m in thread_json["messages"]][0] == ("in", "choix")
    assert page.locator("#texto-thread li.in, #texto-thread li.out").count() == len(
        thread_json["messages"]
    )

    # Another phone has its own thread.
    page.get_by_label("Écrire à partir du cellulaire de").select_option("+14185550101")
    expect(thread).to_contain_text("Aucun texto pour l'instant")

    page.get_by_label("Écrire à partir du cellulaire de").select_option(MARC)
    expect(page.locator("#texto-thread li.out")).to_have_count(2)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "browser-texto-phone.png"))
    assert errors == []
    page.close()


def test_the_phone_page_passes_axe_wcag_21_aa(servers: Servers, browser: Any) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 860}, locale="fr-CA")
    page.goto(f"{servers.backend_url}/demo/texto")
    page.get_by_label("Écrire à partir du cellulaire de").select_option("+15815550104")
    page.get_by_label("Votre texto").fill("Bonjour, voici un lien http://localhost:8000/p/Ab3xY7")
    page.get_by_role("button", name="Envoyer").click()
    expect(page.locator("#texto-thread li.out").last).to_contain_text("Reçu", timeout=15_000)
    assert rules_run(page) > 40
    found = violations(page)
    assert found == [], _describe(found)
    page.close()


def test_the_chat_widget_passes_axe_wcag_21_aa(servers: Servers, browser: Any) -> None:
    from playwright.sync_api import expect

    for viewport in ({"width": 1280, "height": 860}, {"width": 390, "height": 844}):
        page = browser.new_page(viewport=viewport, locale="fr-CA")
        page.goto(f"{servers.backend_url}/")
        found = violations(page)
        assert found == [], _describe(found)  # the closed widget on the city page
        page.get_by_role("button", name="Clavarder avec nous").first.click()
        expect(page.locator("#chat-status")).to_have_text("Connecté", timeout=15_000)
        page.get_by_label("Votre message").fill("choix")
        page.keyboard.press("Enter")
        expect(page.get_by_role("button", name="Thomas")).to_be_visible(timeout=15_000)
        found = violations(page)
        assert found == [], _describe(found)  # open, with messages and choices
        page.close()
