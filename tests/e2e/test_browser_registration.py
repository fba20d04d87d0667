"""A whole registration in the web chat, in a real browser, against the whole stack.

Headless Debian Chromium (`make chromium` installs it; Playwright drives it, no browser download)
opens the city's page served by the backend at `/`; the widget talks socket.io to Rasa running
the trained model with the action server and the backend on SQLite (demo data). The parent logs
in with the demo's "Se connecter comme" (a signed widget token, as a city's site would mint),
types and clicks to the payment link; then the backend's state is checked. The screenshot stays
in tests/artifacts/.

The stack starts once for the module.

    .venv/bin/python -m pytest tests/e2e/test_browser_registration.py
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
from sqlalchemy import Engine, create_engine, text

from tests.e2e.backend_state import family_lines, latest_order
from tests.e2e.conversation import channel_conversation, http_json

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from stack import Ports, Stack, running  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

MODEL = ROOT / "models" / "current.tar.gz"
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SOCKETIO_JS = ROOT / "backend" / "web" / "static" / "vendor" / "socket.io.min.js"
TURN_TIMEOUT = 90.0


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    for needed, how in ((MODEL, "make model"), (Path(CHROMIUM), "make chromium"),
                        (SOCKETIO_JS, "scripts/fetch-socketio-client.sh")):
        if not needed.exists():
            pytest.fail(f"{needed} missing: {how} (make test does it)")
    work = tmp_path_factory.mktemp("browser-e2e")
    url = f"sqlite:///{work / 'e2e.db'}"
    env = {"DEMO_MODE": "1", "DATABASE_URL": url}
    subprocess.run([str(ROOT / ".venv/bin/python"), "-m", "backend.demo"], cwd=ROOT,
                   env={**os.environ, **env}, check=True, capture_output=True)
    stack = Stack(ports=Ports.free(), env=env, log_dir=ARTIFACTS / "browser-e2e-logs")
    with running(stack, timeout=300):
        yield stack


@pytest.fixture(scope="module")
def db(web: Stack) -> Iterator[Engine]:
    engine = create_engine(web.env["DATABASE_URL"])
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


class ChatPage:
    """The widget as a parent uses it, plus what the test needs to know when a turn is over."""

    def __init__(self, page: Any, stack: Stack) -> None:
        self.page = page
        self.stack = stack
        self.transcript: list[str] = []
        self.clicks = 0

    # -- waiting for the bot

    def _tracker(self) -> tuple[int, int, str]:
        # The page keeps its session secret; Rasa's conversation id is derived from it.
        secret = self.page.evaluate("() => sessionStorage.getItem('vf-chat-session')")
        if not secret:
            return 0, 0, ""
        session = channel_conversation(self.stack.conversation_secret, "web", secret)
        events = http_json("GET", self.stack.tracker_url(session)).get("events") or []
        users = sum(1 for e in events if e.get("event") == "user")
        shown = sum(1 for e in events if e.get("event") == "bot"
                    and (e.get("text") or (e.get("data") or {}).get("buttons")))
        return users, shown, (events[-1].get("name", "") if events else "")

    def _after_turn(self, users_before: int) -> None:
        """Rasa saves the tracker when the turn is over (its replies already emitted); then the
        page must show as many bot messages as the tracker holds."""
        deadline = time.monotonic() + TURN_TIMEOUT
        while True:
            users, shown, last = self._tracker()
            if users > users_before and last == "action_listen":
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"the bot did not finish its turn:\n{self.dump()}")
            time.sleep(0.1)
        bubbles = self.page.locator(".msg-bot")
        while bubbles.count() < shown + self.bot_baseline:
            if time.monotonic() > deadline:
                raise AssertionError(f"bot messages missing on the page:\n{self.dump()}")
            time.sleep(0.05)
        for item in bubbles.all()[len(self.seen_bot):]:
            said = item.locator(".bubble").inner_text()
            buttons = item.locator("button").all_inner_texts()
            self.seen_bot.append(said)
            self.transcript.append(f"BOT: {said} {buttons if buttons else ''}")

    def start(self) -> None:
        self.bot_baseline = self.page.locator(".msg-bot").count()
        self.seen_bot: list[str] = [""] * self.bot_baseline

    # -- the parent's actions

    def type(self, message: str) -> None:
        users = self._tracker()[0]
        self.transcript.append(f"PARENT (types): {message}")
        self.page.get_by_label("Votre message").fill(message)
        self.page.keyboard.press("Enter")
        self._after_turn(users)

    def click(self, title: str) -> None:
        users = self._tracker()[0]
        self.transcript.append(f"PARENT (clicks): {title}")
        button = self.last_bot().get_by_role("button", name=title, exact=True)
        if not button.count():
            raise AssertionError(f"no button {title!r} under the last message:\n{self.dump()}")
        button.click()
        self.clicks += 1
        self._after_turn(users)

    # -- what the parent sees

    def last_bot(self) -> Any:
        return self.page.locator(".msg-bot").last

    def question(self) -> str:
        return str(self.last_bot().locator(".bubble").inner_text())

    def choices(self) -> list[str]:
        return list(self.last_bot().locator("button:enabled").all_inner_texts())

    def dump(self) -> str:
        return "\n".join(self.transcript)


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    """A fresh browser context for one test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-CA")
    try:
        yield context
    finally:
        context.close()


def test_julie_registers_lea_in_the_web_chat_typing_and_clicking(
    web: Stack, db: Engine, context: Any
) -> None:
    page = context.new_page()
    try:
        _register_lea(web, db, context, page)
    except BaseException:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "browser-e2e-failure.png"))
        raise


def _register_lea(web: Stack, db: Engine, context: Any, page: Any) -> None:
    from playwright.sync_api import expect

    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(web.public_base_url + "/")  # the origin Rasa's CORS allows
    expect(page.get_by_role("heading", level=1)).to_have_text("Inscriptions aux activités")

    # The city's login, simulated in demo mode: a signed widget token for family 100001.
    page.get_by_role("button", name="Clavarder avec nous").first.click()
    expect(page.locator("#chat-status")).to_have_text("Connecté", timeout=20_000)
    page.get_by_label("Se connecter comme").select_option("100001")
    page.get_by_role("button", name="Se connecter", exact=True).click()
    expect(page.locator("#chat-demo-note")).to_contain_text("Julie Tremblay", timeout=10_000)
    expect(page.locator("#chat-status")).to_have_text("Connecté", timeout=20_000)

    chat = ChatPage(page, web)
    chat.start()
    chat.type("Bonjour, je voudrais inscrire ma fille au camp de jour")
    transcript = chat.dump()
    assert "Julie" in transcript, transcript  # recognised from the token: no code asked
    assert "numéro de client" not in transcript.lower()

    # The rest of the conversation: each of the bot's questions answered the way a parent
    # would, by typing or by clicking one of its buttons.
    typed_name = False
    for _ in range(14):
        if page.locator("a.pay-link").count():
            break
        question, choices = chat.question().lower(), chat.choices()
        # The most specific first: the summary before the terms also names the options.
        if "modalités de paiement" in question:
            chat.click("Oui")
        elif "versement" in question:
            chat.click("1 versement")
        elif "passer la commande" in question:
            chat.click("Passer la commande")
        elif "pour quel enfant" in question and not typed_name:
            chat.type("<b>Léa</b>")  # markup typed by a parent stays text
            typed_name = True
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "browser-e2e-name-as-text.png"))
        elif "quel parc" in question:
            chat.click("Parc de la Rivière")
        elif "quelles semaines" in question:
            chat.type("semaines 2 et 3")
        elif "service de garde" in question:  # one option at a time
            chat.click("Oui")
        elif "vélo" in question:
            chat.click("Non")
        elif "chandail" in question:
            chat.click("Oui")
        else:
            raise AssertionError(f"unexpected question {question!r} {choices}:\n{chat.dump()}")
    else:
        raise AssertionError(f"no payment link:\n{chat.dump()}")
    transcript = chat.dump()
    assert typed_name and chat.clicks >= 3, transcript

    # `<b>Léa</b>` is shown as the characters typed, never as bold text.
    expect(page.locator(".msg-user .bubble", has_text="<b>Léa</b>")).to_have_count(1)
    assert page.locator("#chat-log b, #chat-log strong").count() == 0
    # Used buttons are disabled, the chosen one marked.
    assert page.locator("#chat-log button.chosen").count() == chat.clicks

    # The backend holds what was agreed: Léa (9-12 ans at 30 September 2027), Parc de la
    # Rivière, weeks 2 and 3 with service de garde, one order of 2 × (95 $ + 40 $) in one payment.
    lines = family_lines(db, "100001")
    assert [(line["child"], line["week"]) for line in lines] == [("Léa", 2), ("Léa", 3)], \
        transcript
    assert {(line["site"], line["grp"], line["status"], line["options"]) for line in lines} == {
        ("Parc de la Rivière", "9-12 ans", "held", 1)}
    order = latest_order(db, "100001")
    with db.connect() as conn:
        sent = conn.execute(text(
            "SELECT channel FROM notification WHERE kind = 'payment_link' AND family_id = "
            "(SELECT id FROM family WHERE client_number = '100001')")).scalars().all()
    assert (order["total_cents"], order["installment_count"]) == (2 * (9500 + 4000), 1)
    assert {line["order_id"] for line in lines} == {order["id"]}
    assert set(sent) >= {"sms", "email"}  # "je vous ai aussi envoyé ce lien…"

    # The payment link is a real link to the hosted checkout page.
    link = page.locator("a.pay-link").last
    expect(link).to_have_attribute("href", re.compile(rf"/p/{re.escape(order['pay_token'])}$"))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "browser-e2e-registration.png"))
    with context.expect_page() as opened:
        link.click()
    checkout = opened.value
    checkout.wait_for_load_state()
    expect(checkout.locator("body")).to_contain_text("270,00")
    checkout.close()

    assert errors == [], errors
