"""The chat widget in a real browser: headless Debian Chromium driven by Playwright.

Servers: the real backend (demo mode, SQLite, demo data) serving the page, and Rasa's real
socket.io channel (bot environment) with a recording stand-in for the conversation. Setup on a
fresh machine: `apt-get install -y chromium` (make chromium); no browser download.

    .venv/bin/python -m pytest tests/browser
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from served import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser
CONVERSATION_SECRET = "browser-test-conversation-secret"
SEALED = "sealed_identity"  # bot/sealing.py METADATA_KEY

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
SERVICE = "browser-service-secret"


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
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer; see {log}")
        time.sleep(0.3)


@dataclass
class Stack:
    page_url: str
    backend_url: str
    record: Path

    def received(self) -> list[dict[str, Any]]:
        if not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text("utf-8").splitlines()]

    def wait_received(self, n: int, timeout: float = 10) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.received()) < n:
            time.sleep(0.05)
        return self.received()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: apt-get install -y chromium (make chromium)")
    if not (ROOT / "backend/web/static/vendor/socket.io.min.js").exists():
        pytest.fail("socket.io client missing: scripts/fetch-socketio-client.sh")
    tmp = tmp_path_factory.mktemp("browser")
    rasa_port, backend_port = _free_port(), _free_port()
    record = tmp / "received.jsonl"
    bot_env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "RASA_TELEMETRY_ENABLED": "false",
        "CONVERSATION_SECRET": CONVERSATION_SECRET,
    }
    rasa_log = tmp / "rasa.log"
    backend_log = tmp / "backend.log"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp / 'browser.db'}",
        "DEMO_MODE": "1",
        "SERVICE_SECRET": SERVICE,
        "BACKEND_HOST": "127.0.0.1",
        "BACKEND_PORT": str(backend_port),
        "RASA_URL": f"http://127.0.0.1:{rasa_port}",
    }
    app_py = str(ROOT / ".venv" / "bin" / "python")
    subprocess.run(
        [app_py, "-m", "backend.demo"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
    )
    with rasa_log.open("wb") as rlog, backend_log.open("wb") as blog:
        rasa = subprocess.Popen(
            [
                str(ROOT / ".venv-bot/bin/python"),
                str(Path(__file__).with_name("socketio_app.py")),
                "--port",
                str(rasa_port),
                "--record",
                str(record),
            ],
            cwd=ROOT,
            env=bot_env,
            stdout=rlog,
            stderr=subprocess.STDOUT,
        )
        backend = subprocess.Popen(
            [app_py, "-m", "backend"], cwd=ROOT, env=env, stdout=blog, stderr=subprocess.STDOUT
        )
        try:
            _wait(f"http://127.0.0.1:{backend_port}/health", backend, backend_log, 60)
            _wait(f"http://127.0.0.1:{rasa_port}/webhooks/socketio/", rasa, rasa_log, 120)
            yield Stack(
                f"http://127.0.0.1:{backend_port}/", f"http://127.0.0.1:{backend_port}", record
            )
        finally:
            for proc in (rasa, backend):
                proc.terminate()
                proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def unseal(token: str, conversation: str) -> dict[str, Any] | None:
    """bot/sealing.py's unseal, run in the bot's environment (AES-GCM needs its cryptography)."""
    code = (
        "import json, sys; from bot import sealing; "
        "print(json.dumps(sealing.unseal(sys.argv[1], sys.argv[2])))"
    )
    done = subprocess.run(
        [str(ROOT / ".venv-bot/bin/python"), "-c", code, token, conversation],
        cwd=ROOT,
        capture_output=True,
        check=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT), "CONVERSATION_SECRET": CONVERSATION_SECRET},
    )
    result = json.loads(done.stdout.decode().strip().splitlines()[-1])
    return dict(result) if result else None


def test_demo_login_then_chat_renders_parent_text_as_text(stack: Stack, browser: Any) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 860}, locale="fr-CA")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(stack.page_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Inscriptions aux activités")

    # Demo mode: the city's login is simulated with a signed widget token.
    page.get_by_role("button", name="Clavarder avec nous").first.click()
    expect(page.locator("#chat-input")).to_be_focused()
    expect(page.locator("#chat-status")).to_have_text("Connecté", timeout=15_000)
    page.get_by_label("Se connecter comme").select_option("100001")
    page.get_by_role("button", name="Se connecter", exact=True).click()
    expect(page.locator("#chat-demo-note")).to_contain_text("Julie Tremblay", timeout=10_000)

    # A name typed with markup stays text, in the parent's bubble and in the bot's answer.
    page.get_by_label("Votre message").fill("<b>Léa</b>")
    page.keyboard.press("Enter")
    bot_reply = page.locator(".msg-bot .bubble").last
    expect(bot_reply).to_have_text("Reçu : <b>Léa</b>", timeout=10_000)
    expect(page.locator(".msg-user .bubble").last).to_have_text("<b>Léa</b>")
    assert page.locator("#chat-log b").count() == 0
    expect(page.locator("#chat-input")).to_have_value("")

    # The widget token went with the session, came back sealed for this conversation only, and
    # the backend accepts it for family 100001.
    [message] = [m for m in stack.wait_received(1) if m["text"] == "<b>Léa</b>"]
    assert set(message["metadata"]) == {SEALED}
    payload = unseal(message["metadata"][SEALED], message["sender_id"])
    assert payload is not None and payload["channel"] == "socketio"
    token = payload["widget_token"]
    identified = httpx.post(
        f"{stack.backend_url}/api/identify/widget",
        json={"widget_token": token},
        headers={"Authorization": f"Bearer {SERVICE}"},
        timeout=10,
    )
    assert identified.status_code == 200
    assert identified.json()["family"]["client_number"] == "100001"

    # Choices are buttons; clicking one sends its payload and shows its title.
    page.get_by_label("Votre message").fill("choix")
    page.keyboard.press("Enter")
    thomas = page.get_by_role("button", name="Thomas")
    expect(thomas).to_be_visible(timeout=10_000)
    thomas.click()
    expect(page.locator(".msg-user .bubble").last).to_have_text("Thomas")
    expect(thomas).to_be_disabled()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(
        m["text"] == '/inform{"enfant": "Thomas"}' for m in stack.received()
    ):
        time.sleep(0.05)
    assert any(m["text"] == '/inform{"enfant": "Thomas"}' for m in stack.received())

    # A payment link is a real link, without the sentence's final period.
    page.get_by_label("Votre message").fill("lien")
    page.keyboard.press("Enter")
    link = page.locator("a.pay-link").last
    expect(link).to_have_attribute("href", "http://localhost:8000/p/Ab3xY7", timeout=10_000)

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "browser-chat-desktop.png"))

    # Keyboard: Escape closes the panel and gives focus back to the launcher.
    page.keyboard.press("Escape")
    expect(page.locator("#chat-panel")).to_be_hidden()
    expect(page.locator("#chat-launcher")).to_be_focused()
    assert errors == []
    page.close()


def test_phone_sized_screen(stack: Stack, browser: Any) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(
        viewport={"width": 390, "height": 844},
        locale="fr-CA",
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    page.goto(stack.page_url)
    page.locator("#chat-launcher").click()
    expect(page.locator("#chat-status")).to_have_text("Connecté", timeout=15_000)
    box = page.locator("#chat-panel").bounding_box()
    assert box is not None and box["width"] >= 389  # the panel takes the whole width
    page.get_by_label("Votre message").fill("Bonjour, je veux inscrire ma fille")
    page.get_by_role("button", name="Envoyer").click()
    expect(page.locator(".msg-bot .bubble").last).to_have_text(
        "Reçu : Bonjour, je veux inscrire ma fille", timeout=10_000
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "browser-chat-phone.png"))
    page.close()


def test_the_browser_is_debian_chromium() -> None:
    assert shutil.which("chromium") or Path(CHROMIUM).exists()
