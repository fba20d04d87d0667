"""The SMS channel inside a real Rasa server: signatures, retries, keywords, replies by SMS.

Rasa's Sanic app runs in its own process with the channel loaded from a credentials file; the real
backend runs in its own environment on a fresh SQLite database (it records opt-outs); Twilio's REST
API is a local HTTP server; requests are signed with twilio's own RequestValidator, as Twilio does.
Run with the bot's environment (the backend's, .venv, must exist too):

    .venv-bot/bin/python -m pytest tests/integration/channels/sms
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from itertools import count
from pathlib import Path
from typing import Any

import pytest
import requests
from sms_fakes import FakeTwilio, fake_twilio
from twilio.request_validator import RequestValidator

from bot import sealing
from bot.channels import sms_render
from bot.channels.answered import no_answer_text
from bot.channels.texts import text as catalog_text

ROOT = Path(__file__).resolve().parents[4]
ACCOUNT_SID = "AC" + "0" * 31 + "1"
AUTH_TOKEN = "demo-twilio-auth-token"  # the demo token documented in docs/CHANNELS.md
CITY_NUMBER = "+14185550199"
PUBLIC_URL = "https://sms.val-fleuri.example"  # Rasa sits behind a proxy: Twilio signs this URL
SIGNED_URL = PUBLIC_URL + "/webhooks/twilio_sms/webhook"
SERVICE_SECRET = "test-service-secret"
CONVERSATION_SECRET = "sms-test-conversation-secret"
# Low enough for a test to reach, high enough for every other test of the module.
BURST_PER_PHONE = 6


def conversation_of(phone: str) -> str:
    """The conversation id the channel gives a phone, computed with the channel's key."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CONVERSATION_SECRET", CONVERSATION_SECRET)
        return sealing.conversation_id("sms", phone)


def unsealed(message: dict[str, Any]) -> dict[str, Any] | None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CONVERSATION_SECRET", CONVERSATION_SECRET)
        token = (message["metadata"] or {}).get(sealing.METADATA_KEY)
        return sealing.unseal(token, message["sender_id"])


_sids = count(1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Harness:
    def __init__(self, base: str, record: Path, twilio: FakeTwilio, backend_url: str) -> None:
        self.webhook = base + "/webhooks/twilio_sms/webhook"
        self.record = record
        self.twilio = twilio
        self.backend_url = backend_url
        # Another Rasa process of the same deployment (same tracker store), as a context manager.
        self.start_another: Callable[[], AbstractContextManager[str]] = nullcontext

    def opted_out(self, phone: str) -> bool:
        """Asked of the real backend, as every sender does."""
        resp = requests.get(
            self.backend_url + "/api/sms/status",
            params={"phone": phone},
            headers={"Authorization": f"Bearer {SERVICE_SECRET}"},
            timeout=5,
        )
        resp.raise_for_status()
        return bool(resp.json()["opted_out"])

    def post(
        self,
        phone: str,
        body: str | None,
        *,
        sid: str | None = None,
        token: str = AUTH_TOKEN,
        signed_url: str = SIGNED_URL,
        sign: bool = True,
        tamper: dict[str, str] | None = None,
        extra: dict[str, str] | None = None,
        via: str | None = None,
    ) -> requests.Response:
        params: dict[str, str] = {
            "MessageSid": sid or f"SM{next(_sids):032d}",
            "AccountSid": ACCOUNT_SID,
            "From": phone,
            "To": CITY_NUMBER,
            "NumMedia": "0",
        }
        if body is not None:
            params["Body"] = body
        params.update(extra or {})  # signed with the rest, as Twilio would sign any field
        headers = {}
        if sign:
            headers["X-Twilio-Signature"] = RequestValidator(token).compute_signature(
                signed_url, params
            )
        params.update(tamper or {})
        webhook = (via + "/webhooks/twilio_sms/webhook") if via else self.webhook
        return requests.post(webhook, data=params, headers=headers, timeout=10)

    def received(self, phone: str) -> list[dict[str, Any]]:
        if not self.record.exists():
            return []
        lines = self.record.read_text(encoding="utf-8").splitlines()
        conversation = conversation_of(phone)
        return [m for m in map(json.loads, lines) if m["sender_id"] == conversation]

    def wait_received(self, phone: str, n: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.received(phone)) < n:
            time.sleep(0.05)
        return self.received(phone)


def _wait_until_up(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(log.read_text(errors="replace")[-3000:])
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):  # still starting
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer; see {log}")
        time.sleep(0.3)


@pytest.fixture(scope="module")
def backend_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real backend (python -m backend) on a fresh SQLite database with the demo data."""
    tmp = tmp_path_factory.mktemp("backend")
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp / 'sms.db'}",
        "DEMO_MODE": "1",
        "SERVICE_SECRET": SERVICE_SECRET,
        "BACKEND_HOST": "127.0.0.1",
        "BACKEND_PORT": str(port),
        "PYTHONUNBUFFERED": "1",
    }
    app_py = str(ROOT / ".venv" / "bin" / "python")
    subprocess.run(
        [app_py, "-m", "backend.demo"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
    )
    log_path = tmp / "backend.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [app_py, "-m", "backend"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            _wait_until_up(f"http://127.0.0.1:{port}/health", proc, log_path, 60)
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            proc.wait(timeout=20)


@contextmanager
def rasa_process(tmp: Path, name: str, env: dict[str, str], record: Path) -> Iterator[str]:
    """One Rasa server (sms_app.py) with the channel; its trackers in `tmp / trackers.db`."""
    port = _free_port()
    log_path = tmp / f"{name}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).with_name("sms_app.py")),
                "--port",
                str(port),
                "--credentials",
                str(tmp / "credentials.yml"),
                "--record",
                str(record),
                "--trackers",
                str(tmp / "trackers.db"),
                "--lock-prefix",
                f"sms-test-{tmp.name}-",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(base + "/webhooks/twilio_sms/", proc, log_path, 120)
            yield base
        finally:
            proc.terminate()
            proc.wait(timeout=20)


@pytest.fixture(scope="module")
def sms(tmp_path_factory: pytest.TempPathFactory, backend_url: str) -> Iterator[Harness]:
    tmp = tmp_path_factory.mktemp("sms")
    twilio = FakeTwilio(ACCOUNT_SID, AUTH_TOKEN)
    with fake_twilio(twilio) as twilio_url:
        (tmp / "credentials.yml").write_text(
            "bot.channels.twilio_sms.SignedTwilioInput:\n"
            f'  account_sid: "{ACCOUNT_SID}"\n  auth_token: "{AUTH_TOKEN}"\n'
            f'  twilio_number: "{CITY_NUMBER}"\n  public_url: "{PUBLIC_URL}"\n',
            encoding="utf-8",
        )
        record = tmp / "received.jsonl"
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "RASA_TELEMETRY_ENABLED": "false",
            "BACKEND_URL": backend_url,
            "SERVICE_SECRET": SERVICE_SECRET,
            "TWILIO_API_BASE": twilio_url,
            "CITY_NAME": "Ville de Val-Fleuri",
            "CITY_PHONE": "418 555-0199",
            "CONVERSATION_SECRET": CONVERSATION_SECRET,
            "SMS_RATE_BURST_CONVERSATION": str(BURST_PER_PHONE),
            "SMS_RATE_PER_MINUTE_CONVERSATION": "0.01",
        }
        env.pop("REDIS_URL", None)
        with rasa_process(tmp, "rasa", env, record) as base:
            harness = Harness(base, record, twilio, backend_url)
            harness.start_another = lambda: rasa_process(tmp, "rasa-2", env, record)
            yield harness


def test_signed_request_reaches_the_bot_with_the_phone_sealed_and_the_reply_goes_by_sms(
    sms: Harness,
) -> None:
    phone = "+14185550101"
    resp = sms.post(phone, "Bonjour")
    assert resp.status_code == 200
    assert "<Response></Response>" in resp.text
    [message] = sms.wait_received(phone, 1)
    assert message["text"] == "Bonjour"
    # The conversation id is a keyed hash, not the phone; the phone only travels sealed.
    assert message["sender_id"].startswith("sms_") and "5550101" not in message["sender_id"]
    assert set(message["metadata"]) == {sealing.METADATA_KEY}
    assert phone not in json.dumps(message["metadata"])
    payload = unsealed(message)
    assert payload is not None
    assert (payload["channel"], payload["phone"]) == ("twilio_sms", phone)
    assert message["input_channel"] == "twilio_sms"
    # The reply goes to the phone of the request, though the conversation id is not a phone.
    assert sms.twilio.wait_for(phone, 1) == ["Reçu : Bonjour"]
    assert sms.twilio.bad_auth == 0


def test_signed_fields_cannot_add_an_identity_or_another_conversation(sms: Harness) -> None:
    phone = "+14185550166"
    victim = "+14185550160"
    extra = {
        "phone": victim,
        "metadata": json.dumps({"phone": victim}),
        sealing.METADATA_KEY: "forged",
        "session_id": victim,
        "sender": victim,
        "input_channel": "rest",
    }
    assert sms.post(phone, "Bonjour", extra=extra).status_code == 200
    [message] = sms.wait_received(phone, 1)
    assert message["sender_id"] == conversation_of(phone)
    assert message["input_channel"] == "twilio_sms"
    payload = unsealed(message)
    assert payload is not None and payload["phone"] == phone  # From, nothing else
    assert sms.received(victim) == []
    assert sms.twilio.wait_for(phone, 1) == ["Reçu : Bonjour"]


def test_a_sealed_identity_does_not_open_in_another_conversation(sms: Harness) -> None:
    phone, other = "+14185550177", "+14185550178"
    sms.post(phone, "Bonjour")
    [message] = sms.wait_received(phone, 1)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CONVERSATION_SECRET", CONVERSATION_SECRET)
        token = message["metadata"][sealing.METADATA_KEY]
        assert sealing.unseal(token, conversation_of(other)) is None
        assert sealing.unseal(token, message["sender_id"]) is not None
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CONVERSATION_SECRET", "another-deployment")
        assert sealing.unseal(token, message["sender_id"]) is None


def test_a_flood_from_one_phone_stops_at_the_limit_with_one_french_text(sms: Harness) -> None:
    phone = "+14185550188"
    for n in range(BURST_PER_PHONE + 8):
        assert sms.post(phone, f"message {n}").status_code == 200
    received = sms.wait_received(phone, BURST_PER_PHONE)
    too_many = catalog_text("sms.too_many")
    texts = sms.twilio.wait_for(phone, BURST_PER_PHONE + 1)
    time.sleep(0.5)  # nothing more may arrive: checked once everything in flight is done
    assert [m["text"] for m in sms.received(phone)] == [
        f"message {n}" for n in range(BURST_PER_PHONE)
    ]
    assert len(received) == BURST_PER_PHONE
    assert sms.twilio.to(phone).count(too_many) == 1, texts
    assert len(sms.twilio.to(phone)) == BURST_PER_PHONE + 1
    assert sms_render.is_gsm7(too_many)
    # STOP still works past the limit.
    sms.post(phone, "STOP")
    sms.twilio.wait_for(phone, BURST_PER_PHONE + 2)
    assert sms.opted_out(phone)


def test_a_turn_that_sends_nothing_is_answered_in_french(sms: Harness) -> None:
    phone = "+14185550199"
    sms.post(phone, "panne")  # the stand-in bot fails that turn, as without the action server
    sms.wait_received(phone, 1)
    assert sms.twilio.wait_for(phone, 1) == [no_answer_text()]


@pytest.mark.parametrize(
    "how",
    ["wrong token", "no signature", "signed over the internal URL", "body changed after signing"],
)
def test_forged_requests_get_403_and_do_nothing(sms: Harness, how: str) -> None:
    phone = "+15815550999"
    if how == "wrong token":
        resp = sms.post(phone, "Bonjour", token="not-the-token")
    elif how == "no signature":
        resp = sms.post(phone, "Bonjour", sign=False)
    elif how == "signed over the internal URL":
        resp = sms.post(phone, "Bonjour", signed_url=sms.webhook)
    else:
        resp = sms.post(phone, "Bonjour", tamper={"Body": "ARRET"})
    assert resp.status_code == 403
    time.sleep(0.3)
    assert sms.received(phone) == []
    assert sms.twilio.to(phone) == []
    assert not sms.opted_out(phone)


def test_a_retried_message_sid_changes_nothing(sms: Harness) -> None:
    phone = "+14185550111"
    for _ in range(3):
        assert sms.post(phone, "Inscrire Léa", sid="SM" + "7" * 32).status_code == 200
    sms.twilio.wait_for(phone, 1)
    time.sleep(0.5)
    assert [m["text"] for m in sms.received(phone)] == ["Inscrire Léa"]
    assert sms.twilio.to(phone) == ["Reçu : Inscrire Léa"]


@pytest.mark.parametrize("body", [None, "", "   "])
def test_a_post_without_body_is_answered_200_and_ignored(sms: Harness, body: str | None) -> None:
    phone = "+14185550122"
    resp = sms.post(phone, body)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/xml")
    time.sleep(0.2)
    assert sms.received(phone) == []


@pytest.mark.parametrize("word", ["ARRÊT", "arret", "Stop!", "DÉSABONNER"])
def test_stop_keywords_opt_out_and_silence_every_later_reply_until_start(
    sms: Harness, word: str
) -> None:
    phone = f"+1418555{abs(hash(word)) % 10000:04d}"
    assert sms.post(phone, word).status_code == 200
    [confirmation] = sms.twilio.wait_for(phone, 1)
    assert confirmation == catalog_text(
        "sms.stop", city="Ville de Val-Fleuri", phone="418 555-0199"
    )
    assert len(confirmation) <= 160 and sms_render.is_gsm7(confirmation)
    assert sms.opted_out(phone)
    assert sms.received(phone) == []  # a keyword is not conversation

    # The conversation still hears the parent, but nothing is texted back.
    sms.post(phone, "Bonjour")
    sms.wait_received(phone, 1)
    time.sleep(0.5)
    assert len(sms.twilio.to(phone)) == 1

    # START: opted in again, confirmed, and replies flow again.
    sms.post(phone, "REPRENDRE")
    bodies = sms.twilio.wait_for(phone, 2)
    assert bodies[1] == catalog_text("sms.start", city="Ville de Val-Fleuri", phone="418 555-0199")
    assert not sms.opted_out(phone)
    sms.post(phone, "Encore là?")
    assert sms.twilio.wait_for(phone, 3)[2] == "Reçu : Encore là?"


@pytest.mark.parametrize("word", ["AIDE", "help", "Info."])
def test_help_keywords_say_who_we_are_and_how_to_stop(sms: Harness, word: str) -> None:
    phone = f"+1581555{abs(hash(word)) % 10000:04d}"
    sms.post(phone, word)
    [reply] = sms.twilio.wait_for(phone, 1)
    assert "Ville de Val-Fleuri" in reply and "418 555-0199" in reply
    assert "ARRET" in reply and "STOP" in reply
    assert len(reply) <= 160 and sms_render.is_gsm7(reply)
    assert sms.received(phone) == []


def test_stop_inside_a_sentence_is_conversation(sms: Harness) -> None:
    phone = "+14185550133"
    sms.post(phone, "Je veux stop la semaine 3")
    [message] = sms.wait_received(phone, 1)
    assert message["text"] == "Je veux stop la semaine 3"
    assert not sms.opted_out(phone)
    assert sms.twilio.wait_for(phone, 1) == ["Reçu : Je veux stop la semaine 3"]


def test_choices_are_numbered_and_a_bare_number_comes_back_as_the_payload(sms: Harness) -> None:
    phone = "+14185550144"
    sms.post(phone, "choix")
    [question] = sms.twilio.wait_for(phone, 1)
    assert question == "Pour quel enfant?\n1. Léa\n2. Thomas\n3. Les deux\nRépondez 1, 2 ou 3."
    sms.post(phone, "2")
    received = sms.wait_received(phone, 2)
    assert received[1]["text"] == '/choisir_enfant{"enfant": "Thomas"}'
    # The choices were for that answer only: a later "2" is just "2".
    sms.twilio.wait_for(phone, 2)
    sms.post(phone, "2")
    assert sms.wait_received(phone, 3)[2]["text"] == "2"


def test_a_number_answering_the_weeks_question_is_a_week_and_the_shortcut_has_a_letter(
    sms: Harness,
) -> None:
    phone = "+14185550145"
    sms.post(phone, "semaines")
    noted, question = sms.twilio.wait_for(phone, 2)
    assert noted == "C'est noté."
    assert question == (
        "Quelles semaines ? Le camp compte 8 semaines.\n"
        "A. Tout l'été\nRépondez A, ou écrivez votre réponse."
    )
    sms.post(phone, "1")
    assert sms.wait_received(phone, 2)[1]["text"] == "1"  # week 1, not "Tout l'été"
    sms.twilio.wait_for(phone, 3)
    sms.post(phone, "semaines")
    sms.twilio.wait_for(phone, 5)
    sms.post(phone, "a")
    assert sms.wait_received(phone, 4)[3]["text"] == "Tout l'été"


def test_choices_that_carry_their_number_are_picked_by_that_number(sms: Harness) -> None:
    phone = "+14185550146"
    sms.post(phone, "versements")
    [question] = sms.twilio.wait_for(phone, 1)
    assert question.endswith("\n1 versement\n2 versements\nRépondez 1 ou 2."), question
    sms.post(phone, "2")
    assert sms.wait_received(phone, 2)[1]["text"] == "2 versements"


def test_two_rasa_processes_agree_on_what_a_number_picks(sms: Harness) -> None:
    phone, other = "+14185550147", "+14185550148"
    with sms.start_another() as second:
        # Asked by the first process, answered through the second, and the other way round.
        sms.post(phone, "choix")
        sms.twilio.wait_for(phone, 1)
        sms.post(phone, "3", via=second)
        assert sms.wait_received(phone, 2)[1]["text"] == '/choisir_enfant{"enfant": "les deux"}'
        sms.post(other, "semaines", via=second)
        sms.twilio.wait_for(other, 2)
        sms.post(other, "3")
        assert sms.wait_received(other, 2)[1]["text"] == "3"
        sms.twilio.wait_for(other, 3)
        sms.post(other, "choix", via=second)
        sms.twilio.wait_for(other, 4)
        sms.post(other, "1")
        assert sms.wait_received(other, 4)[3]["text"] == '/choisir_enfant{"enfant": "Léa"}'


def test_a_long_reply_goes_out_in_messages_of_at_most_three_parts(sms: Harness) -> None:
    phone = "+14185550155"
    sms.post(phone, "long")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any("http" in b for b in sms.twilio.to(phone)):
        time.sleep(0.05)
    bodies = sms.twilio.to(phone)
    assert len(bodies) >= 2
    for body in bodies:
        assert sms_render.segments(body) <= 3, body
        assert "\u00a0" not in body
    joined = "\n\n".join(bodies)
    assert all(f"Semaine {n} " in joined for n in range(1, 9))
    assert "135,00 $" in joined
    assert "\nhttp://localhost:8000/p/Ab3xY7" in joined  # the link alone on its line, no period


def test_every_text_sent_is_from_the_city_number_and_within_three_parts(sms: Harness) -> None:
    assert sms.twilio.sent, "the other tests sent messages"
    for message in sms.twilio.sent:
        assert message.from_ == CITY_NUMBER
        assert sms_render.segments(message.body) <= 3


@pytest.mark.parametrize(
    ("body", "keyword"),
    [
        ("ARRÊT", "stop"),
        (" arret ", "stop"),
        ("Désabonner", "stop"),
        ("STOP.", "stop"),
        ("aide", "help"),
        ("HELP", "help"),
        ("info", "help"),
        ("Reprendre", "start"),
        ("START", "start"),
        ("stop le camp", None),
        ("arrête", None),
        ("Je veux de l'aide", None),
    ],
)
def test_only_a_whole_message_is_a_keyword(body: str, keyword: str | None) -> None:
    from bot.channels.twilio_sms import keyword_of

    assert keyword_of(body) == keyword


def test_the_signature_check_cannot_be_turned_off() -> None:
    from bot.channels.twilio_sms import SignedTwilioInput

    with pytest.raises(ValueError):
        SignedTwilioInput.from_credentials(
            {
                "account_sid": ACCOUNT_SID,
                "auth_token": "",
                "twilio_number": CITY_NUMBER,
                "public_url": PUBLIC_URL,
            }
        )
    with pytest.raises(ValueError):
        SignedTwilioInput.from_credentials(
            {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "twilio_number": CITY_NUMBER}
        )


async def test_retries_are_recognised_across_processes_through_redis() -> None:
    import uuid

    from bot.channels.twilio_sms import SeenMessages

    sid = "SM" + uuid.uuid4().hex
    first, second = (
        SeenMessages(redis_url="redis://127.0.0.1:6379/0"),
        SeenMessages(redis_url="redis://127.0.0.1:6379/0"),
    )
    try:
        assert await first.first_time(sid) is True
        assert await second.first_time(sid) is False  # another Rasa process saw it already
    finally:
        await first._redis.delete(f"twilio_sms:sid:{sid}")


async def test_memory_dedupe_is_bounded() -> None:
    from bot.channels.twilio_sms import SeenMessages

    seen = SeenMessages(capacity=2)
    assert [await seen.first_time(s) for s in ("a", "b", "a", "c")] == [True, True, False, True]
    assert await seen.first_time("b") is True  # the least recently seen was forgotten


def test_credentials_may_name_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.channels.twilio_sms import SignedTwilioInput

    monkeypatch.setenv("T_TOKEN", AUTH_TOKEN)
    monkeypatch.setenv("T_URL", PUBLIC_URL)
    channel = SignedTwilioInput.from_credentials(
        {
            "account_sid": ACCOUNT_SID,
            "auth_token": "${T_TOKEN}",
            "twilio_number": CITY_NUMBER,
            "public_url": "${T_URL}",
        }
    )
    assert isinstance(channel, SignedTwilioInput)
    assert channel.url == SIGNED_URL
    monkeypatch.delenv("T_TOKEN")
    with pytest.raises(ValueError, match="T_TOKEN"):
        SignedTwilioInput.from_credentials(
            {
                "account_sid": ACCOUNT_SID,
                "auth_token": "${T_TOKEN}",
                "twilio_number": CITY_NUMBER,
                "public_url": PUBLIC_URL,
            }
        )
