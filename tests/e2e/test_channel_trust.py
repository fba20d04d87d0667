"""Nobody acts as a family through the channels: forged requests against the whole stack.

The stack (backend on SQLite with the demo city, action server, Rasa with the trained model and
bot/credentials-local.yml) starts once for the module, with a local stand-in for Twilio's API.
Julie (family 100001, phone on file) first texts the city's number, so her SMS conversation is
identified. Then someone else tries every way in that used to work: plain `phone` /
`widget_token` metadata, a sealed identity taken from Julie's conversation, a `session_id`
naming her conversation, a socket that never opened a session, a chosen REST `sender` or
`input_channel`, Rasa's HTTP API without its token. Each time the test checks what a parent
would see (the bot asks who they are) and the backend's state (no new family session for
Julie, no cart line, no order). Last, the action server, then the backend, is really stopped
in the middle of a conversation: the parent is told in French, and once it is back the
conversation goes on with what was already said.

    .venv/bin/python -m pytest tests/e2e/test_channel_trust.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from twilio.request_validator import RequestValidator

from tests.e2e.backend_state import family_lines
from tests.e2e.conversation import Parent, channel_conversation, http_json

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "tests" / "integration" / "channels" / "sms"))

from sms_fakes import FakeTwilio, fake_twilio  # noqa: E402
from stack import Ports, Stack, running  # noqa: E402

pytestmark = pytest.mark.e2e

MODEL = ROOT / "models" / "current.tar.gz"
ACCOUNT_SID = "AC00000000000000000000000000000000"
AUTH_TOKEN = "demo-twilio-auth-token"
CITY_NUMBER = "+14185550199"
WEBHOOK = "/webhooks/twilio_sms/webhook"
JULIE = "+14185550101"  # on file: family 100001
STRANGER = "+15145550177"  # on no file
OPENING = "Bonjour, je voudrais inscrire Léa au camp de jour"
BOT_PY = ROOT / ".venv-bot" / "bin" / "python"
SEALED = "sealed_identity"  # bot/sealing.py METADATA_KEY
WEB_BURST = 4


def catalog(key: str) -> str:
    """A sentence of the channels catalog, read with the bot's own loader."""
    from bot.channels.texts import text as catalog_text

    return catalog_text(key)


@dataclass
class Trust:
    stack: Stack
    twilio: FakeTwilio
    db: Engine

    def conversation(self, kind: str, value: str) -> str:
        return channel_conversation(self.stack.conversation_secret, kind, value)

    def tracker(self, conversation: str) -> dict[str, Any]:
        return dict(http_json("GET", self.stack.tracker_url(conversation)))

    def user_turns(self, conversation: str) -> int:
        events = self.tracker(conversation).get("events") or []
        return sum(1 for e in events if e.get("event") == "user")

    def wait_turn(self, conversation: str, users_before: int, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            events = self.tracker(conversation).get("events") or []
            users = sum(1 for e in events if e.get("event") == "user")
            if users > users_before and events[-1].get("name") == "action_listen":
                return
            time.sleep(0.1)
        raise AssertionError(f"the turn of {conversation} did not end")

    def text(self, phone: str, body: str, extra: dict[str, str] | None = None) -> None:
        """A text from `phone`, signed as Twilio signs it; returns once the bot's turn is over."""
        conversation = self.conversation("sms", phone)
        before = self.user_turns(conversation)
        params = {"MessageSid": f"SM{uuid.uuid4().hex}", "AccountSid": ACCOUNT_SID,
                  "From": phone, "To": CITY_NUMBER, "Body": body, "NumMedia": "0",
                  **(extra or {})}
        signed_url = f"http://localhost:{self.stack.ports.rasa}{WEBHOOK}"
        signature = RequestValidator(AUTH_TOKEN).compute_signature(signed_url, params)
        request = urllib.request.Request(
            self.stack.rasa_url + WEBHOOK, data=urllib.parse.urlencode(params).encode(),
            headers={"X-Twilio-Signature": signature,
                     "Content-Type": "application/x-www-form-urlencoded"})
        with urllib.request.urlopen(request, timeout=15) as response:
            assert response.status == 200
        self.wait_turn(conversation, before)

    def socket(self, steps: list[dict[str, Any]]) -> dict[str, Any]:
        """A real python-socketio client (bot environment) playing `steps` against Rasa."""
        scenario = {"url": self.stack.rasa_url, "steps": steps}
        done = subprocess.run([str(BOT_PY), str(Path(__file__).with_name("socketio_client.py")),
                               json.dumps(scenario)], cwd=ROOT, capture_output=True, timeout=300,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert done.returncode == 0, done.stderr.decode(errors="replace")[-3000:]
        result = dict(json.loads(done.stdout))
        assert not result["timed_out"], result
        return result

    def julie_state(self) -> dict[str, Any]:
        """What a help-desk agent would see of Julie's family: sessions opened, lines, orders."""
        family = "(SELECT id FROM family WHERE client_number = '100001')"
        with self.db.connect() as conn:
            sessions = conn.execute(text(
                f"SELECT count(*) FROM family_session WHERE family_id = {family}")).scalar_one()
            orders = conn.execute(text(
                f"SELECT count(*) FROM orders WHERE family_id = {family}")).scalar_one()
        return {"sessions": sessions, "orders": orders, "lines": family_lines(self.db, "100001")}


@pytest.fixture(scope="module")
def trust(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trust]:
    if not MODEL.exists():
        pytest.fail("no trained model: run `make model` first (make test does)")
    work = tmp_path_factory.mktemp("trust-e2e")
    url = f"sqlite:///{work / 'e2e.db'}"
    env = {"DEMO_MODE": "1", "DATABASE_URL": url}
    subprocess.run([str(ROOT / ".venv/bin/python"), "-m", "backend.demo"], cwd=ROOT,
                   env={**os.environ, **env}, check=True, capture_output=True)
    twilio = FakeTwilio(ACCOUNT_SID, AUTH_TOKEN)
    with fake_twilio(twilio) as twilio_url:
        # A low web chat limit per conversation, for the flood test; the other web tests send at
        # most two messages per conversation.
        limits = {"WEB_RATE_BURST_CONVERSATION": str(WEB_BURST),
                  "WEB_RATE_PER_MINUTE_CONVERSATION": "0.01"}
        stack = Stack(ports=Ports.free(), env={**env, **limits, "TWILIO_API_BASE": twilio_url},
                      log_dir=ROOT / "tests" / "artifacts" / "trust-e2e-logs")
        with running(stack, timeout=300):
            engine = create_engine(url)
            yield Trust(stack, twilio, engine)
            engine.dispose()


@pytest.fixture(scope="module")
def julie(trust: Trust) -> str:
    """Julie's SMS conversation, identified from her phone by the channel."""
    trust.text(JULIE, "Bonjour")
    conversation = trust.conversation("sms", JULIE)
    assert trust.tracker(conversation)["slots"].get("identified") is True
    return conversation


def widget_token(trust: Trust, client: str = "100001") -> str:
    minted = http_json("POST", f"{trust.stack.backend_url}/demo/widget-token",
                       {"client_number": client})
    return str(minted["widget_token"])


def sealed_from(trust: Trust, conversation: str) -> str:
    """The sealed identity stored with the latest message of a conversation (what a tracker
    dump or anyone holding Rasa's API token could read)."""
    events = trust.tracker(conversation)["events"]
    latest = [e for e in events if e.get("event") == "user"][-1]
    return str(latest["metadata"][SEALED])


def not_identified(trust: Trust, conversation: str) -> None:
    slots = trust.tracker(conversation)["slots"]
    assert not slots.get("identified"), slots
    assert not slots.get("family_token"), slots


# --------------------------------------------------------------------------- REST


@pytest.mark.parametrize("how", ["plain phone", "plain widget token", "sealed from Julie's"])
def test_rest_metadata_and_input_channel_identify_nobody(
    trust: Trust, julie: str, how: str
) -> None:
    before = trust.julie_state()
    if how == "plain phone":
        metadata: dict[str, Any] = {"phone": JULIE}
    elif how == "plain widget token":
        metadata = {"widget_token": widget_token(trust)}
    else:
        metadata = {SEALED: sealed_from(trust, julie)}
    sender = f"rest-{uuid.uuid4().hex[:10]}"
    replies = http_json("POST", f"{trust.stack.rasa_url}/webhooks/rest/webhook",
                        {"sender": sender, "message": OPENING, "metadata": metadata,
                         "input_channel": "twilio_sms"})
    said = " ".join(r.get("text", "") for r in replies).lower()
    assert "numéro de client" in said, said  # asked who they are, like anyone
    assert "julie" not in said
    not_identified(trust, sender)
    latest = [e for e in trust.tracker(sender)["events"] if e.get("event") == "user"][-1]
    assert latest["input_channel"] == "rest"
    # Rasa adds its own model_id / assistant_id; nothing of the client's is left.
    assert set(latest.get("metadata") or {}) <= {"model_id", "assistant_id"}, latest
    assert trust.julie_state() == before


@pytest.mark.parametrize("sender", ["julie's sms conversation", "julie's phone"])
def test_rest_cannot_write_into_julies_sms_conversation(
    trust: Trust, julie: str, sender: str
) -> None:
    before, turns = trust.julie_state(), trust.user_turns(julie)
    name = julie if sender == "julie's sms conversation" else JULIE
    request = urllib.request.Request(
        f"{trust.stack.rasa_url}/webhooks/rest/webhook",
        data=json.dumps({"sender": name, "message": "Annuler toutes mes inscriptions"}).encode(),
        headers={"Content-Type": "application/json"}, method="POST")
    if sender == "julie's sms conversation":
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=60)
        assert refused.value.code == 403
    else:
        # A phone is not a conversation id any more: this is a new, unidentified conversation.
        with urllib.request.urlopen(request, timeout=60):
            pass
        not_identified(trust, JULIE)
    assert trust.user_turns(julie) == turns
    assert trust.julie_state() == before


# --------------------------------------------------------------------------- web chat


def test_a_socket_that_never_opened_a_session_is_refused(trust: Trust, julie: str) -> None:
    before, turns = trust.julie_state(), trust.user_turns(julie)
    forged = {"message": OPENING, "session_id": julie, "metadata": {"phone": JULIE},
              "customData": {"phone": JULIE}}
    result = trust.socket([
        {"emit": "user_uttered", "data": forged},
        {"emit": "user_uttered", "data": {**forged, "session_id": JULIE}},
    ])
    assert [m.get("text") for m in result["bot"]] == [catalog("chat.no_session")] * 2
    assert trust.user_turns(julie) == turns
    assert trust.julie_state() == before


def test_a_session_id_or_metadata_in_a_message_changes_nothing(trust: Trust, julie: str) -> None:
    before, turns = trust.julie_state(), trust.user_turns(julie)
    token = widget_token(trust)
    forged_identity = {"phone": JULIE, "widget_token": token,
                       SEALED: sealed_from(trust, julie)}
    result = trust.socket([
        {"emit": "session_request", "data": {}},
        {"emit": "user_uttered", "data": {"message": OPENING, "session_id": julie,
                                          "metadata": forged_identity,
                                          "customData": forged_identity}},
    ])
    [secret] = result["confirmed"]
    said = " ".join(str(m.get("text", "")) for m in result["bot"]).lower()
    assert "numéro de client" in said and "julie" not in said, said
    own = trust.conversation("web", secret)
    not_identified(trust, own)
    assert trust.user_turns(own) == 1
    assert trust.user_turns(julie) == turns
    assert trust.julie_state() == before


def test_a_session_secret_not_issued_by_the_server_is_replaced(trust: Trust, julie: str) -> None:
    result = trust.socket([{"emit": "session_request", "data": {"session_id": julie}},
                           {"emit": "session_request", "data": {"session_id": JULIE}}])
    assert all(len(s) == 32 and s not in (julie, JULIE) for s in result["confirmed"])


def test_the_widget_token_of_the_session_request_identifies_the_family(trust: Trust) -> None:
    """The control for the tests above: the one way in does work."""
    result = trust.socket([
        {"emit": "session_request", "data": {"widget_token": widget_token(trust)}},
        {"emit": "user_uttered", "data": {"message": OPENING}},
    ])
    [secret] = result["confirmed"]
    conversation = trust.conversation("web", secret)
    trust.wait_turn(conversation, 0)
    slots = trust.tracker(conversation)["slots"]
    assert slots.get("identified") is True
    said = " ".join(str(m.get("text", "")) for m in result["bot"])
    assert "Julie" in said and "numéro de client" not in said.lower(), said


def test_a_kept_secret_resumes_its_own_conversation_only(trust: Trust) -> None:
    first = trust.socket([{"emit": "session_request", "data": {}},
                          {"emit": "user_uttered", "data": {"message": OPENING}}])
    [secret] = first["confirmed"]
    conversation = trust.conversation("web", secret)
    trust.wait_turn(conversation, 0)
    again = trust.socket([{"emit": "session_request", "data": {"session_id": secret}},
                          {"emit": "user_uttered", "data": {"message": "100001"}}])
    assert again["confirmed"] == [secret]
    trust.wait_turn(conversation, 1)
    assert trust.user_turns(conversation) == 2


def test_a_script_cannot_flood_a_web_conversation(trust: Trust) -> None:
    flood = 2 * WEB_BURST
    result = trust.socket([
        {"emit": "session_request", "data": {}},
        *({"emit": "user_uttered", "data": {"message": f"Bonjour {n}"}, "replies": 0}
          for n in range(flood)),
        {"wait_for": catalog("chat.too_many"), "count": flood - WEB_BURST},
    ])
    [secret] = result["confirmed"]
    conversation = trust.conversation("web", secret)
    trust.wait_turn(conversation, WEB_BURST - 1)
    # Refused messages never reached Rasa: only the first WEB_BURST are in the conversation.
    events = trust.tracker(conversation)["events"]
    texts = [e["text"] for e in events if e.get("event") == "user"]
    assert sorted(texts) == [f"Bonjour {n}" for n in range(WEB_BURST)]


# --------------------------------------------------------------------------- SMS


def test_signed_sms_fields_cannot_claim_julies_identity(trust: Trust, julie: str) -> None:
    before, turns = trust.julie_state(), trust.user_turns(julie)
    texts_to_julie = len(trust.twilio.to(JULIE))
    trust.text(STRANGER, OPENING, extra={"phone": JULIE, "sender": julie,
                                         SEALED: sealed_from(trust, julie),
                                         "input_channel": "twilio_sms"})
    stranger = trust.conversation("sms", STRANGER)
    not_identified(trust, stranger)
    said = " ".join(trust.twilio.to(STRANGER)).lower()
    assert "numero de client" in said or "numéro de client" in said, said
    assert len(trust.twilio.to(JULIE)) == texts_to_julie
    assert trust.user_turns(julie) == turns
    assert trust.julie_state() == before


# --------------------------------------------------------------------------- Rasa's HTTP API


def test_rasa_api_refuses_without_its_token(trust: Trust, julie: str) -> None:
    for url in (f"{trust.stack.rasa_url}/conversations/{julie}/tracker",
                f"{trust.stack.rasa_url}/conversations/{julie}/tracker?token=wrong"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url, timeout=10)
        assert refused.value.code == 401
    assert trust.tracker(julie)["sender_id"] == julie  # with the token it answers


def test_rasa_cors_names_the_public_origin_only(trust: Trust) -> None:
    def allowed(origin: str) -> str | None:
        request = urllib.request.Request(f"{trust.stack.rasa_url}/webhooks/socketio/",
                                         headers={"Origin": origin})
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.headers.get("Access-Control-Allow-Origin")

    assert allowed(trust.stack.public_base_url) == trust.stack.public_base_url
    assert allowed("https://evil.example") is None


# --------------------------------------------------------------------------- action server down


# What the parent reads when one process is down: only the channels' own answer when the action
# server is gone (Rasa itself would send nothing), the actions' answer when the backend is.
DOWN: dict[str, Callable[[list[str]], bool]] = {
    "actions": lambda texts: texts == [catalog("chat.no_answer")],
    "backend": lambda texts: any("ne répond pas en ce moment" in t for t in texts),
}


@pytest.mark.parametrize("process", ["actions", "backend"])
def test_with_a_process_down_the_parent_hears_it_and_nothing_is_lost(
    trust: Trust, process: str
) -> None:
    parent = Parent(trust.stack.rasa_url, trust.stack.backend_url,
                    sender=f"down-{process}-{uuid.uuid4().hex[:10]}")
    first = parent.says_text("Bonjour! Je voudrais inscrire Thomas au camp de jour, semaine 3")
    assert "numéro de client" in first.lower(), parent.dump()
    kept = trust.tracker(parent.sender)["slots"]
    assert kept.get("pending_facts"), kept

    trust.stack.stop_process(process)
    try:
        during = parent.say("mon numéro de client c'est 100002 pis mon tel 418-555-0102")
    finally:
        trust.stack.restart_process(process)
    assert DOWN[process]([r.get("text", "") for r in during]), parent.dump()
    assert trust.tracker(parent.sender)["slots"].get("pending_facts") == kept["pending_facts"]

    # Back: the parent writes again and the conversation goes on from where it was.
    answer = parent.says_text("mon numéro de client c'est 100002 pis mon tel 418-555-0102")
    assert "code" in answer.lower(), parent.dump()
    assert trust.tracker(parent.sender)["slots"].get("pending_facts") == kept["pending_facts"]
