"""Which identity the actions accept from a message's metadata: only what our channel sealed for
this very conversation, naming the message's own input channel. Runs in the bot's environment:

    .venv-bot/bin/python -m pytest tests/unit/channels/test_channel_identity.py \
        --confcutdir=tests/unit/channels
"""

from __future__ import annotations

import asyncio
import time

import pytest

from bot import sealing
from bot.actions import identification
from bot.actions.identification import channel_identity, identify_from_metadata

JULIE = "+14185550101"


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONVERSATION_SECRET", "identity-test-secret")


def sms_conversation(phone: str = JULIE) -> str:
    return sealing.conversation_id("sms", phone)


def sealed(payload: dict[str, str], conversation: str, now: float | None = None) -> dict[str, str]:
    return {sealing.METADATA_KEY: sealing.seal(payload, conversation, now=now)}


def test_the_sealed_phone_of_this_sms_conversation_is_trusted() -> None:
    conversation = sms_conversation()
    metadata = sealed({"channel": "twilio_sms", "phone": JULIE}, conversation)
    assert channel_identity(metadata, conversation, "twilio_sms") == ("phone", JULIE)
    # At session start the message is not logged yet: the seal alone names the channel.
    assert channel_identity(metadata, conversation, None) == ("phone", JULIE)


def test_the_sealed_widget_token_of_this_web_conversation_is_trusted() -> None:
    conversation = sealing.conversation_id("web", "a" * 32)
    metadata = sealed({"channel": "socketio", "widget_token": "v1.100001.x"}, conversation)
    assert channel_identity(metadata, conversation, "socketio") == ("widget_token", "v1.100001.x")


@pytest.mark.parametrize(
    "how",
    [
        "plain phone",
        "plain widget token",
        "plain phone beside a valid seal of nothing",
        "sealed for another conversation",
        "sealed by another deployment",
        "sealed for SMS, sent on the web chat",
        "sealed for SMS, sent on REST",
        "sealed web token claimed by SMS",
        "expired seal",
        "garbage",
    ],
)
def test_forged_or_misplaced_identities_are_ignored(
    how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    conversation = sms_conversation()
    channel = "twilio_sms"
    sms_payload = {"channel": "twilio_sms", "phone": JULIE}
    if how == "plain phone":
        metadata: dict[str, object] = {"phone": JULIE}
    elif how == "plain widget token":
        metadata, channel = {"widget_token": "v1.100001.x"}, "socketio"
    elif how == "plain phone beside a valid seal of nothing":
        metadata = {**sealed({"channel": "twilio_sms"}, conversation), "phone": JULIE}
    elif how == "sealed for another conversation":
        metadata = sealed(sms_payload, sms_conversation("+14185550102"))
    elif how == "sealed by another deployment":
        monkeypatch.setenv("CONVERSATION_SECRET", "someone-else")
        metadata = sealed(sms_payload, conversation)
        monkeypatch.setenv("CONVERSATION_SECRET", "identity-test-secret")
    elif how == "sealed for SMS, sent on the web chat":
        metadata, channel = sealed(sms_payload, conversation), "socketio"
    elif how == "sealed for SMS, sent on REST":
        metadata, channel = sealed(sms_payload, conversation), "rest"
    elif how == "sealed web token claimed by SMS":
        metadata = sealed({"channel": "twilio_sms", "widget_token": "v1.100001.x"}, conversation)
    elif how == "expired seal":
        metadata = sealed(sms_payload, conversation, now=time.time() - 3600)
    else:
        metadata = {sealing.METADATA_KEY: "not-a-seal", "phone": JULIE}
    assert channel_identity(metadata, conversation, channel) is None


def test_a_forged_identity_never_reaches_the_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    async def identify_phone(phone: str) -> dict[str, str]:
        asked.append(phone)
        return {"match": "one", "family_token": "t", "family": {}}

    monkeypatch.setattr(identification.backend, "identify_phone", identify_phone)
    forged = {"phone": JULIE}
    found, response = asyncio.run(identify_from_metadata(forged, sms_conversation(), "twilio_sms"))
    assert (found, response, asked) == ([], None, [])
    good = sealed({"channel": "twilio_sms", "phone": JULIE}, sms_conversation())
    found, _ = asyncio.run(identify_from_metadata(good, sms_conversation(), "twilio_sms"))
    assert asked == [JULIE] and found
