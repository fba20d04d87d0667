"""The demo phone page (/demo/texto) in headless Chromium, through the whole demo stack.

The stack as `make run` starts it (scripts/stack.py with demo texting: the demo's Twilio stand-in,
the backend sending through it, the action server, Rasa with the trained model and the signed
SMS channel). A visitor holds a phone on nobody's file, texts the bot, gives Marc Gagnon's client
number and phone, switches the page to Marc's phone to read the one-time code the backend texted
there, types it back and is identified: everything read on the page, as a visitor would.

    .venv/bin/python -m pytest tests/e2e/test_sms_demo_phone.py
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.served import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.conversation import channel_conversation, http_json

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from stack import Ports, Stack, running  # noqa: E402

pytestmark = pytest.mark.e2e

MODEL = ROOT / "models" / "current.tar.gz"
UNKNOWN = "+15145550123"  # the page's phone on nobody's file
MARC = "+14185550102"  # family 100002
ARTIFACTS = ROOT / "tests" / "artifacts"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not MODEL.exists():
        pytest.fail("no trained model: run `make model` first (make test does)")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: apt-get install -y chromium (make chromium)")
    work = tmp_path_factory.mktemp("texto-e2e")
    env = {"DEMO_MODE": "1", "DATABASE_URL": f"sqlite:///{work / 'e2e.db'}"}
    subprocess.run(
        [str(ROOT / ".venv/bin/python"), "-m", "backend.demo"],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )
    demo = Stack(
        ports=Ports.free(),
        env=env,
        demo_texting=True,
        log_dir=ROOT / "tests" / "artifacts" / "texto-e2e-logs",
    )
    with running(demo, timeout=300):
        yield demo


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


class Phone:
    """The page, held by a visitor."""

    def __init__(self, page: Any, stack: Stack) -> None:
        self.page = page
        self.stack = stack
        self.transcript: list[str] = []

    def hold(self, phone: str) -> None:
        self.page.get_by_label("Écrire à partir du cellulaire de").select_option(phone)

    def bubbles(self) -> list[str]:
        return [str(t) for t in self.page.locator("#texto-thread li.out").all_inner_texts()]

    def _turns(self, phone: str) -> tuple[int, str]:
        conversation = channel_conversation(self.stack.conversation_secret, "sms", phone)
        events = http_json("GET", self.stack.tracker_url(conversation)).get("events") or []
        users = sum(1 for e in events if e.get("event") == "user")
        return users, (events[-1].get("name", "") if events else "")

    def text(self, phone: str, body: str) -> list[str]:
        """Types `body`, waits until Rasa has finished that turn and the page shows every text
        the stand-in received for the phone; returns the new texts received."""
        from playwright.sync_api import expect

        before_turns, _ = self._turns(phone)
        before = len(self.bubbles())
        self.transcript.append(f"VISITOR: {body}")
        self.page.get_by_label("Votre texto").fill(body)
        self.page.get_by_role("button", name="Envoyer").click()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            users, last = self._turns(phone)
            if users > before_turns and last == "action_listen":
                break
            time.sleep(0.2)
        else:
            raise AssertionError("the bot did not finish its turn:\n" + self.dump())
        thread = http_json(
            "GET",
            f"{self.stack.backend_url}/demo/texto/messages?phone=" + phone.replace("+", "%2B"),
        )["messages"]
        outs = sum(1 for m in thread if m["direction"] == "out")
        expect(self.page.locator("#texto-thread li.out")).to_have_count(outs, timeout=10_000)
        new = self.bubbles()[before:]
        self.transcript.extend(f"BOT: {b}" for b in new)
        return new

    def dump(self) -> str:
        return "\n".join(self.transcript)


def test_a_visitor_identifies_as_marc_with_the_code_read_on_the_page(
    stack: Stack, browser: Any
) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(
        viewport={"width": 390, "height": 844}, locale="fr-CA", is_mobile=True, has_touch=True
    )
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{stack.backend_url}/demo/texto")
    phone = Phone(page, stack)
    phone.hold(UNKNOWN)

    replies = phone.text(UNKNOWN, "Bonjour, je veux inscrire ma fille au camp de jour")
    assert replies, phone.dump()
    code = ""
    for _ in range(6):
        asked = replies[-1].lower()
        if "numéro de client" in asked:
            replies = phone.text(UNKNOWN, "100002")
        elif "téléphone" in asked and "code" not in asked:
            replies = phone.text(UNKNOWN, "418 555-0102")
        elif "code" in asked:
            # The code went to the phone on Marc's file: read it there, on the page.
            phone.hold(MARC)
            sms = page.locator("#texto-thread li.out", has_text="code de vérification").last
            expect(sms).to_be_visible(timeout=30_000)
            match = re.search(r"\b(\d{6})\b", sms.inner_text())
            assert match, sms.inner_text()
            code = match.group(1)
            phone.transcript.append(f"MARC'S PHONE: {sms.inner_text()}")
            phone.hold(UNKNOWN)
            shown = sum(1 for line in phone.transcript if line.startswith("BOT: "))
            expect(page.locator("#texto-thread li.out")).to_have_count(shown, timeout=10_000)
            replies = phone.text(UNKNOWN, code)
            break
        else:
            raise AssertionError(f"unexpected question {asked!r}:\n{phone.dump()}")
    assert code, phone.dump()
    # Identified: the bot names Marc and goes on with the registration, never asking again.
    after = "\n".join(replies)
    assert "Marc" in after, phone.dump()
    assert "code" not in replies[-1].lower() and "numéro de client" not in replies[-1].lower(), (
        phone.dump()
    )
    # The code never reached the phone that asked for it.
    assert not any(code in b for b in phone.bubbles()), phone.dump()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "texto-e2e-identified.png"))
    assert errors == []
    page.close()
