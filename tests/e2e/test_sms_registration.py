"""Whole registrations by text message, through the real stack.

Backend on SQLite with the demo city (sending its own texts through the twilio library), action
server, and Rasa with the trained model and bot/credentials-local.yml (the signed SMS channel). Both
the bot's replies and the backend's texts (codes, payment links) go through the real twilio
library to a local HTTP server standing in for api.twilio.com: what a parent's phone would get
is what that server received. Every inbound text is signed with twilio's RequestValidator over
the public URL the stack configures, as Twilio would.

The stack starts once for the module (Rasa needs about a minute); each test uses its own
phone numbers and family, so the tests do not depend on each other's order.

    .venv/bin/python -m pytest tests/e2e/test_sms_registration.py
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from twilio.request_validator import RequestValidator

from bot.channels import sms_render
from tests.e2e.backend_state import family_lines, latest_order
from tests.e2e.conversation import Parent, channel_conversation, converse, http_json

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "tests" / "integration" / "channels" / "sms"))

from sms_fakes import FakeTwilio, fake_twilio  # noqa: E402
from stack import Ports, Stack, running  # noqa: E402

pytestmark = pytest.mark.e2e

MODEL = ROOT / "models" / "current.tar.gz"
# The stack runner's demo Twilio settings (docs/CHANNELS.md); the backend sends from the same
# number through the same account.
ACCOUNT_SID = "AC00000000000000000000000000000000"
AUTH_TOKEN = "demo-twilio-auth-token"
CITY_NUMBER = "+14185550199"
SERVICE_SECRET = "dev-service-secret"
WEBHOOK = "/webhooks/twilio_sms/webhook"

JULIE = "+14185550101"  # on file: family 100001
MARC_ON_FILE = "+14185550102"  # family 100002
KARIM = "+15815550104"  # on file: family 100004
PAY_LINK = re.compile(r"https?://\S+/p/[A-Za-z0-9_-]+")
# Health data of the demo families (backend/demo.py): never in a text message.
HEALTH_WORDS = ("arachide", "epipen", "auto-injecteur", "allergi", "médica", "medica", "lunettes")


# --------------------------------------------------------------------------- SMS cost, counted
# apart from bot/channels/sms_render so that the channel's own counter is checked too.

_GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_ESCAPED = set("\f^{}\\[~]|€")


def sms_parts(body: str) -> int:
    """Parts a text costs: GSM-7 160 (153 per part), else UCS-2 70 (67 per part, UTF-16 units)."""
    if all(c in _GSM7 or c in _GSM7_ESCAPED for c in body):
        size, single, multi = sum(1 + (c in _GSM7_ESCAPED) for c in body), 160, 153
    else:
        size, single, multi = len(body.encode("utf-16-le")) // 2, 70, 67
    return 1 if size <= single else -(-size // multi)


def test_the_part_counter_itself() -> None:
    assert sms_parts("a" * 160) == 1 and sms_parts("a" * 161) == 2 and sms_parts("a" * 306) == 2
    assert sms_parts("é" * 160) == 1  # é is GSM-7
    assert sms_parts("ê" * 70) == 1 and sms_parts("ê" * 71) == 2
    assert sms_parts("95,00\u00a0$" + "a" * 70) == 2  # babel's no-break space makes it UCS-2
    assert sms_parts("€" * 80) == 1 and sms_parts("€" * 81) == 2


# --------------------------------------------------------------------------- the stack


@dataclass
class SmsStack:
    stack: Stack
    twilio: FakeTwilio
    db: Engine

    @property
    def signed_url(self) -> str:
        # TWILIO_PUBLIC_URL as the stack runner sets it: what Twilio would have been told to call.
        return f"http://localhost:{self.stack.ports.rasa}{WEBHOOK}"

    def opted_out(self, phone: str) -> bool:
        status = http_json("GET", f"{self.stack.backend_url}/api/sms/status?phone=%2B{phone[1:]}",
                           headers={"Authorization": f"Bearer {SERVICE_SECRET}"})
        return bool(status["opted_out"])


@pytest.fixture(scope="module")
def sms(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmsStack]:
    if not MODEL.exists():
        pytest.fail("no trained model: run `make model` first (make test does)")
    work = tmp_path_factory.mktemp("sms-e2e")
    url = f"sqlite:///{work / 'e2e.db'}"
    env = {"DEMO_MODE": "1", "DATABASE_URL": url, "SERVICE_SECRET": SERVICE_SECRET}
    subprocess.run([str(ROOT / ".venv/bin/python"), "-m", "backend.demo"], cwd=ROOT,
                   env={**os.environ, **env}, check=True, capture_output=True)
    twilio = FakeTwilio(ACCOUNT_SID, AUTH_TOKEN)
    with fake_twilio(twilio) as twilio_url:
        stack = Stack(
            ports=Ports.free(),
            env={**env, "TWILIO_API_BASE": twilio_url,
                 # The backend's own texts (codes, payment links) through Twilio as well.
                 "SMS_BACKEND": "twilio", "TWILIO_FROM_NUMBER": CITY_NUMBER},
            log_dir=ROOT / "tests" / "artifacts" / "sms-e2e-logs",
        )
        with running(stack, timeout=300):
            engine = create_engine(url)
            yield SmsStack(stack, twilio, engine)
            engine.dispose()
    assert twilio.bad_auth == 0  # every send used the account's credentials


# --------------------------------------------------------------------------- a parent by SMS


@dataclass(kw_only=True)
class SmsParent(Parent):
    """A parent texting the city's number: `say` posts a signed webhook request as Twilio would,
    waits until Rasa has finished the turn, and returns the texts the stand-in received for this
    phone meanwhile (as {"text": body} replies, so the REST helpers work unchanged)."""

    sms: SmsStack
    numbers_answered: int = 0
    received: list[str] = field(default_factory=list)

    @property
    def conversation(self) -> str:
        """Rasa's id of this phone's conversation: a keyed hash of the number, not the number."""
        return channel_conversation(self.sms.stack.conversation_secret, "sms", self.sender)

    def _user_turns(self) -> tuple[int, str]:
        tracker = http_json("GET", self.sms.stack.tracker_url(self.conversation))
        events = tracker.get("events") or []
        users = sum(1 for e in events if e.get("event") == "user")
        return users, (events[-1].get("name", "") if events else "")

    def post(self, body: str, sid: str | None = None, signature: str | None = None) -> int:
        params = {"MessageSid": sid or f"SM{uuid.uuid4().hex}", "AccountSid": ACCOUNT_SID,
                  "From": self.sender, "To": CITY_NUMBER, "Body": body, "NumMedia": "0"}
        if signature is None:
            signature = RequestValidator(AUTH_TOKEN).compute_signature(self.sms.signed_url, params)
        request = urllib.request.Request(
            self.rasa_url + WEBHOOK, data=urllib.parse.urlencode(params).encode(),
            headers={"X-Twilio-Signature": signature,
                     "Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)

    def say(self, text_: str, keyword: bool = False) -> list[dict[str, Any]]:
        self.messages_sent += 1
        self.transcript.append(f"PARENT: {text_}")
        before = len(self.sms.twilio.to(self.sender))
        turns_before = 0 if keyword else self._user_turns()[0]
        assert self.post(text_) == 200, self.dump()
        deadline = time.monotonic() + 120
        if keyword:
            # Keywords never reach the bot: the channel answers them with exactly one text.
            while len(self.sms.twilio.to(self.sender)) == before and time.monotonic() < deadline:
                time.sleep(0.05)
        else:
            # Rasa saves the tracker once the turn is over, after every reply has been sent (the
            # channel awaits the stand-in's answer), so the replies are all in by then.
            while time.monotonic() < deadline:
                users, last = self._user_turns()
                if users > turns_before and last == "action_listen":
                    break
                time.sleep(0.1)
            else:
                raise AssertionError(f"the bot did not finish its turn:\n{self.dump()}")
        bodies = self.sms.twilio.to(self.sender)[before:]
        self.received.extend(bodies)
        for body in bodies:
            self.transcript.append(f"BOT: {body}")
        return [{"text": body} for body in bodies]

    def choose(self, title: str) -> Callable[[], str]:
        """Answers the last menu with the key of `title` alone: "2", "B", or the choice's own
        number when it carries one ("1 versement" listed as is is answered "1")."""

        def answer() -> str:
            for key, label in re.findall(r"^(\d+|[A-Z])\. (.+)$", self.last_question, re.M):
                if label.strip().lower() == title.lower():
                    self.numbers_answered += 1
                    return str(key)
            for line in self.last_question.splitlines():
                own = re.match(r"\d+", line.strip())
                if own and line.strip().lower() == title.lower():
                    self.numbers_answered += 1
                    return own.group(0)
            raise AssertionError(f"no menu choice {title!r}:\n{self.dump()}")

        return answer


def texting(sms: SmsStack, phone: str) -> SmsParent:
    return SmsParent(rasa_url=sms.stack.rasa_url, backend_url=sms.stack.backend_url,
                     sender=phone, sms=sms)


def has_link(bot_text: str) -> bool:
    return PAY_LINK.search(bot_text) is not None


def assert_good_texts(bodies: list[str], transcript: str) -> None:
    """What the voice guide asks of every text a parent receives."""
    assert bodies, transcript
    for body in bodies:
        assert sms_parts(body) <= 3, f"{sms_parts(body)} parts:\n{body}"
        assert sms_render.segments(body) == sms_parts(body), body  # the channel counts the same
        assert "\u00a0" not in body and "\u202f" not in body and "\u2019" not in body, body
        lowered = body.lower()
        assert not any(word in lowered for word in HEALTH_WORDS), body
        for line in body.split("\n"):
            if "http" in line:
                assert PAY_LINK.fullmatch(line.strip()), f"a link not alone on its line:\n{body}"


# --------------------------------------------------------------------------- the backend's state


def notifications(db: Engine, kind: str, recipient: str) -> list[dict[str, Any]]:
    query = text("SELECT channel, status, body, provider_id FROM notification "
                 "WHERE kind = :kind AND recipient = :recipient ORDER BY id")
    with db.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query, {"kind": kind,
                                                                "recipient": recipient})]


def wait_for_text(sms: SmsStack, phone: str, needle: str, timeout: float = 20) -> str:
    """The backend's outbox sends a moment after the turn (its dispatcher runs every 2 s)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for body in sms.twilio.to(phone):
            if needle in body:
                return body
        time.sleep(0.2)
    raise AssertionError(f"no text with {needle!r} to {phone}: {sms.twilio.to(phone)}")


# --------------------------------------------------------------------------- the tests


def test_julie_texts_from_her_number_on_file_and_registers_lea_answering_with_numbers(
    sms: SmsStack,
) -> None:
    julie = texting(sms, JULIE)
    final = converse(
        julie,
        "Bonjour, je voudrais inscrire ma fille au camp de jour",
        [
            ("numéro de client", "100001"),  # must not happen: her number identifies her
            ("pour quel enfant", julie.choose("Léa")),
            ("quel parc", julie.choose("Parc des Érables")),
            ("quelles semaines", "les semaines 6 et 7"),
            # one option at a time: garde, then vélo
            ("service de garde", julie.choose("Non")),
            ("vélo", julie.choose("Non")),
            ("chandail", julie.choose("Oui")),
            ("passer la commande", julie.choose("Passer la commande")),
            ("modalités de paiement", julie.choose("Oui")),
            ("versement", julie.choose("1 versement")),
            ("liste d'attente", "oui"),
        ],
        done=has_link,
        limit=14,
    )
    transcript = julie.dump()
    assert "numéro de client" not in transcript.lower(), transcript  # no identification asked
    assert "code" not in " ".join(julie.received).lower(), transcript
    assert julie.numbers_answered >= 3, transcript

    # The backend: Léa holds weeks 6 and 7 at Parc des Érables (9-12 ans at 30 September 2027),
    # without options, in one order of 2 × 95,00 $ in one payment.
    lines = family_lines(sms.db, "100001")
    assert [(line["child"], line["week"]) for line in lines] == [("Léa", 6), ("Léa", 7)], transcript
    assert {(line["site"], line["grp"], line["status"], line["options"]) for line in lines} == {
        ("Parc des Érables", "9-12 ans", "held", 0)}
    order = latest_order(sms.db, "100001")
    assert (order["total_cents"], order["installment_count"]) == (2 * 9500, 1)
    assert {line["order_id"] for line in lines} == {order["id"]}
    link = f"/p/{order['pay_token']}"
    assert link in final, transcript

    # The payment link also went out by text, from the backend, through Twilio.
    deadline = time.monotonic() + 10  # the outbox row is marked sent once Twilio has answered
    while time.monotonic() < deadline:
        [sent] = [n for n in notifications(sms.db, "payment_link", JULIE) if n["channel"] == "sms"]
        if sent["status"] == "sent":
            break
        time.sleep(0.2)
    assert sent["status"] == "sent" and sent["provider_id"].startswith("SM"), sent
    assert link in sent["body"] and sent["body"] in sms.twilio.to(JULIE)

    assert_good_texts(sms.twilio.to(JULIE), transcript)
    assert any(sms_parts(b) > 1 for b in sms.twilio.to(JULIE))  # the counter had work to do


def test_marc_texts_from_an_unknown_number_and_identifies_with_the_code(sms: SmsStack) -> None:
    phone = "+15145550123"  # on no family file
    marc = texting(sms, phone)
    final = converse(
        marc,
        "Bonjour! Je veux inscrire Emma au camp de jour au parc de la Rivière, semaines 3 et 4",
        [
            ("quel est ce code", lambda: marc.latest_code("4185550102")),
            ("numéro de client", "mon numéro de client c'est 100002"),
            ("téléphone inscrit", "418 555-0102"),
            ("quelle activité", marc.choose("Camp de jour")),
            ("quel parc", marc.choose("Parc de la Rivière")),
            ("quelles semaines", "semaines 3 et 4"),
            ("service de garde", "oui la garde svp"),
            ("vélo", "non merci"),
            ("chandail", marc.choose("M")),
            ("passer la commande", "c'est tout, je veux payer"),
            ("modalités de paiement", "oui j'accepte"),
            ("versement", "en un seul versement"),
            ("liste d'attente", "oui"),
        ],
        done=has_link,
        limit=16,
    )
    transcript = marc.dump()
    # The code went by text to the phone on Marc's file, never to the number that asked.
    code = marc.latest_code("4185550102")
    code_text = wait_for_text(sms, MARC_ON_FILE, code)
    assert "code" in code_text.lower()
    assert not any(code in body for body in sms.twilio.to(phone)), transcript
    assert "Marc Gagnon" in transcript

    lines = family_lines(sms.db, "100002")
    assert [(line["child"], line["week"]) for line in lines] == [("Emma", 3), ("Emma", 4)], \
        transcript
    assert {(line["site"], line["grp"], line["status"], line["options"]) for line in lines} == {
        ("Parc de la Rivière", "9-12 ans", "held", 1)}
    order = latest_order(sms.db, "100002")
    assert (order["total_cents"], order["installment_count"]) == (2 * (9500 + 4000), 1)
    assert f"/p/{order['pay_token']}" in final, transcript
    # The backend's copy of the link goes to the phone on file.
    wait_for_text(sms, MARC_ON_FILE, f"/p/{order['pay_token']}")

    assert_good_texts(sms.twilio.to(phone), transcript)
    assert_good_texts(sms.twilio.to(MARC_ON_FILE), transcript)


def test_stop_silences_every_later_text_until_start(sms: SmsStack) -> None:
    karim = texting(sms, KARIM)
    # "stop" inside a sentence is conversation: the bot answers, nothing is recorded.
    assert karim.says_text("Bonjour, est-ce que je peux stop une inscription?"), karim.dump()
    assert sms.opted_out(KARIM) is False

    [confirmation] = karim.say("ARRÊT", keyword=True)
    assert "REPRENDRE" in confirmation["text"] and "START" in confirmation["text"]
    assert sms.opted_out(KARIM) is True
    silenced_from = len(sms.twilio.to(KARIM))

    # The bot still runs its turns, but none of its replies is texted.
    assert karim.say("Je veux inscrire Yasmine au camp de jour") == [], karim.dump()
    assert karim.say("semaine 5") == [], karim.dump()
    # The backend honours it too: identifying as Karim from another phone makes the backend
    # write a code for his number (he has no courriel on file), which its outbox suppresses.
    other = texting(sms, "+15145550777")
    assert "numéro de client" in other.says_text("Bonjour, je veux inscrire ma fille").lower()
    other.says_text("100004")
    assert "code" in other.says_text("581-555-0104").lower(), other.dump()
    deadline = time.monotonic() + 15  # the outbox dispatcher runs every 2 s
    codes: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        codes = notifications(sms.db, "otp", KARIM)
        if codes and all(row["status"] != "pending" for row in codes):
            break
        time.sleep(0.2)
    assert [row["status"] for row in codes] == ["suppressed"], codes
    assert sms.twilio.to(KARIM)[silenced_from:] == [], sms.twilio.to(KARIM)

    [welcome_back] = karim.say("START", keyword=True)
    assert "HELP" in welcome_back["text"] or "AIDE" in welcome_back["text"]
    assert sms.opted_out(KARIM) is False
    assert karim.say("Bonjour"), karim.dump()  # texts flow again
    assert_good_texts(sms.twilio.to(KARIM), karim.dump())


def test_a_forged_or_replayed_request_changes_nothing(sms: SmsStack) -> None:
    parent = texting(sms, "+15145550888")
    assert parent.post("Bonjour", signature="Zm9yZ2Vk") == 403
    assert parent.say("Bonjour") != []
    sent = len(sms.twilio.to(parent.sender))
    turns = parent._user_turns()[0]
    sid = f"SM{uuid.uuid4().hex}"
    assert parent.post("100001", sid=sid) == 200
    assert parent.post("100001", sid=sid) == 200  # Twilio's retry of the same message
    deadline = time.monotonic() + 60
    while parent._user_turns()[0] == turns and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(2)
    assert parent._user_turns()[0] == turns + 1  # one turn, not two
    assert len(sms.twilio.to(parent.sender)) - sent == 1
