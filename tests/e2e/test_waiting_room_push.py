"""Registration night through the whole stack (scripts/stack.py with the demo's Twilio
stand-in): a parent in the web chat, on a real socket.io client, asks to register while a rush
is running and reads their number; staff let more families in; the open chat receives « C'est
votre tour! » without the parent writing anything, the family's phone gets the same news by
text, and the parent continues where they were: the draft they gave is added to the cart.

    .venv/bin/python -m pytest tests/e2e/test_waiting_room_push.py
"""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import Engine, create_engine, text

from tests.e2e.backend_state import family_lines
from tests.e2e.conversation import channel_conversation, http_json
from tests.e2e.scripted_parents import clone_family

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from stack import Ports, Stack, running  # noqa: E402

pytestmark = pytest.mark.e2e

MODEL = ROOT / "models" / "current.tar.gz"
BOT_PY = ROOT / ".venv-bot" / "bin" / "python"
APP_PY = ROOT / ".venv" / "bin" / "python"
PLACE = re.compile(
    r"^Vous êtes le numéro (\d+) ; attente estimée : .+\. Je vous écris dès que c'est votre tour\.$"
)
TURN = "C'est votre tour! Vous pouvez maintenant inscrire vos enfants."
# What the parent answers to each question of the registration form (its requested slot).
ANSWERS = {
    "reg_child": "c'est pour lea",
    "reg_program": "le camp de jour cet ete",
    "reg_group": "celui de la riviere",
    "reg_weeks": "la semaine 2",
    "reg_options": "non",
    "reg_tshirt": "oui",
    "reg_waitlist": "oui",
}




@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, Engine]]:
    if not MODEL.exists():
        pytest.fail("no trained model: run `make model` first (make test does)")
    work = tmp_path_factory.mktemp("rush-e2e")
    env = {"DEMO_MODE": "1", "DATABASE_URL": f"sqlite:///{work / 'e2e.db'}"}
    subprocess.run([str(APP_PY), "-m", "backend.demo"], cwd=ROOT, env={**os.environ, **env},
                   check=True, capture_output=True)
    demo = Stack(ports=Ports.free(), env=env, demo_texting=True,
                 log_dir=ROOT / "tests" / "artifacts" / "rush-e2e-logs")
    with running(demo, timeout=300):
        engine = create_engine(env["DATABASE_URL"])
        yield demo, engine
        engine.dispose()


def rush(stack: Stack, *args: str) -> dict[str, Any]:
    """One `staff_cli rush` command as the demo's coordinator, on the stack's database."""
    done = subprocess.run(
        [str(APP_PY), "-m", "backend.staff_cli", "--staff", "coordo", "rush", *args],
        cwd=ROOT, env={**os.environ, **stack.env}, capture_output=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    return dict(json.loads(done.stdout))


class WebChat:
    """A parent's open web chat: a live socket.io client in the bot's environment."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.proc = subprocess.Popen(
            [str(BOT_PY), str(ROOT / "tests" / "e2e" / "socketio_session.py"), stack.rasa_url],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.read: list[str] = []  # every bot message the chat showed, in order
        threading.Thread(target=self._pump, daemon=True).start()
        assert self._next("connected", 60) is None
        self.conversation = ""

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.events.put(json.loads(line))

    def _next(self, kind: str, timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            event = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            if event["event"] == "bot_uttered":
                self.read.append(str((event["data"] or {}).get("text") or ""))
            if event["event"] == kind:
                return event["data"]

    def emit(self, event: str, data: Any) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"emit": event, "data": data}) + "\n")
        self.proc.stdin.flush()

    def open(self, widget_token: str) -> None:
        self.emit("session_request", {"widget_token": widget_token})
        secret = self._next("session_confirm", 60)
        self.conversation = channel_conversation(self.stack.conversation_secret, "web", secret)

    def tracker(self) -> dict[str, Any]:
        return dict(http_json("GET", self.stack.tracker_url(self.conversation)))

    def say(self, message: str, timeout: float = 120) -> list[str]:
        """Writes one message; returns what the chat showed of the bot's answer."""
        before = len(self.read)
        users = sum(1 for e in self.tracker().get("events") or [] if e.get("event") == "user")
        self.emit("user_uttered", {"message": message})
        deadline = time.monotonic() + timeout
        while True:  # the turn is over when the tracker listens again after this message
            events = self.tracker().get("events") or []
            if (sum(1 for e in events if e.get("event") == "user") > users
                    and events[-1].get("name") == "action_listen"):
                break
            assert time.monotonic() < deadline, f"no answer to {message!r}"
            time.sleep(0.1)
        # Long polling brings the messages a moment later: wait for every one the tracker holds.
        total = sum(1 for e in events if e.get("event") == "bot")
        while len(self.read) < total:
            self._next("bot_uttered", max(0.01, deadline - time.monotonic()))
        return self.read[before:]

    def receives(self, wanted: re.Pattern[str], timeout: float) -> str:
        """Waits, writing nothing, for a bot message matching `wanted`."""
        deadline = time.monotonic() + timeout
        while not any(wanted.search(m) for m in self.read):
            self._next("bot_uttered", max(0.01, deadline - time.monotonic()))
        return next(m for m in self.read if wanted.search(m))

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def register_until_answered(chat: WebChat, opening: str) -> list[str]:
    """The opening, then each question of the registration form answered, until the form is
    done; returns what the bot said to the last answer."""
    said = chat.say(opening)
    for _ in range(12):
        tracker = chat.tracker()
        if (tracker.get("active_loop") or {}).get("name") != "registration_form":
            return said
        slot = str(tracker["slots"].get("requested_slot"))
        assert slot in ANSWERS, f"unexpected question {slot}: {said}"
        said = chat.say(ANSWERS[slot])
    raise AssertionError(f"the registration form never ended: {chat.read}")


def widget_token(stack: Stack, client: str) -> str:
    """What the city's site hands its chat widget after its own login (the demo route mints
    one for the demo families only; this family is a copy), at the backend's demo time."""
    from datetime import datetime

    from backend.services.widget_token import mint_widget_token
    from backend.settings import Settings

    now = datetime.fromisoformat(http_json("GET", f"{stack.backend_url}/api/dev/clock")["utc"])
    return mint_widget_token(client, Settings().widget_secret, now.replace(tzinfo=None))


def texts_to(stack: Stack, phone: str) -> list[str]:
    found = http_json(
        "GET", f"http://127.0.0.1:{stack.ports.twilio}/demo/messages?phone={quote(phone)}"
    )
    return [m["body"] for m in found["messages"] if m["direction"] == "out"]


def test_the_admission_reaches_the_open_web_chat_and_the_phone_then_the_parent_goes_on(
    night: tuple[Stack, Engine],
) -> None:
    stack, db = night
    client, _ = clone_family(db, "julie")
    with db.connect() as conn:
        season = conn.execute(text("SELECT id FROM season ORDER BY id LIMIT 1")).scalar_one()
        phone = conn.execute(text("SELECT phone FROM family WHERE client_number = :c"),
                             {"c": client}).scalar_one()
    # Registration night is on: one family at a time, and three families are already in line
    # (the first of them let in at once, holding the only place).
    opened = rush(stack, "open", "--season", str(season), "--opens-at", "2027-04-20T18:00",
                  "--rate", "60", "--cap", "1")
    rush(stack, "simulate", str(opened["id"]), "--families", "3")

    chat = WebChat(stack)
    try:
        chat.open(widget_token(stack, client))
        said = register_until_answered(chat, "lea au camp riviere semaine 2")
        place = next((m for m in said if PLACE.match(m)), None)
        assert place is not None, said
        number = int(PLACE.match(place).group(1))  # type: ignore[union-attr]
        assert number >= 3  # the families already waiting are ahead
        assert any("écrivez « continuer »" in m for m in said), said
        assert family_lines(db, client) == []  # nothing was added while waiting

        # « c'est quand mon tour? » gives the same place back.
        again = chat.say("c'est quand mon tour?")
        assert any(PLACE.match(m) and int(PLACE.match(m).group(1)) <= number for m in again), again

        before = chat.tracker()
        bot_events = sum(1 for e in before["events"] if e.get("event") == "bot")

        # Staff let more families register at once: the admission step lets the parent in.
        rush(stack, "set", str(opened["id"]), "--cap", "10")
        pushed = chat.receives(re.compile(re.escape(TURN)), timeout=120)
        assert "« continuer »" in pushed

        # In the conversation, as the bot's own message; nothing else moved in it.
        after = chat.tracker()
        new = after["events"][len(before["events"]):]
        assert [e["event"] for e in new] == ["bot"] and new[0]["text"] == pushed
        assert sum(1 for e in after["events"] if e.get("event") == "bot") == bot_events + 1
        assert after["slots"] == before["slots"]
        assert after.get("active_loop") == before.get("active_loop")
        assert after["latest_message"] == before["latest_message"]

        # The phone on file got the same news by text, through the Twilio stand-in.
        deadline = time.monotonic() + 60
        while not any(TURN in body for body in texts_to(stack, phone)):
            assert time.monotonic() < deadline, texts_to(stack, phone)
            time.sleep(0.2)

        # The parent goes on where they were: the draft kept while waiting goes into the cart.
        chat.say("continuer")
        lines = family_lines(db, client)
        assert [(line["child"], line["week"], line["status"]) for line in lines] == [
            ("Léa", 2, "held")
        ], chat.read[-6:]
    finally:
        chat.close()
