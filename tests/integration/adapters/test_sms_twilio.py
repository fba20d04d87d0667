"""The real twilio library, pointed at a local server standing in for Twilio's Messages API."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from stand_ins import TwilioStandIn

from backend.adapters.sms import TwilioSmsSender

SID = "AC" + "0" * 32
TOKEN = "test-auth-token"


@pytest.fixture
def fake_twilio() -> Iterator[TwilioStandIn]:
    fake = TwilioStandIn(invalid_numbers={"+1000"})
    yield fake
    fake.close()


async def test_twilio_library_posts_the_message(fake_twilio: TwilioStandIn) -> None:
    sender = TwilioSmsSender(
        account_sid=SID, auth_token=TOKEN, from_number="+15815550100", api_base=fake_twilio.base
    )
    body = "Val-Fleuri : votre code est 123456.\nhttp://localhost:8000/p/Ab3xY7"
    sid = await sender.send(to="+14185550101", body=body)

    assert sid.startswith("SM")
    [request] = fake_twilio.requests
    assert request["path"] == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert request["form"]["To"] == ["+14185550101"]
    assert request["form"]["From"] == ["+15815550100"]
    assert request["form"]["Body"] == [body]
    expected = base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    assert request["auth"] == f"Basic {expected}"


async def test_a_messaging_service_sends_from_its_pool_of_numbers(
    fake_twilio: TwilioStandIn,
) -> None:
    pool = "MG" + "1" * 32
    sender = TwilioSmsSender(
        account_sid=SID,
        auth_token=TOKEN,
        from_number="+15815550100",
        messaging_service_sid=pool,
        api_base=fake_twilio.base,
    )
    await sender.send(to="+14185550101", body="Votre code : 123456")

    [request] = fake_twilio.requests
    assert request["form"]["MessagingServiceSid"] == [pool]
    assert "From" not in request["form"]  # Twilio picks the pool's number for this recipient


async def test_twilio_error_raises(fake_twilio: TwilioStandIn) -> None:
    sender = TwilioSmsSender(
        account_sid=SID, auth_token=TOKEN, from_number="+15815550100", api_base=fake_twilio.base
    )
    with pytest.raises(Exception, match="21211|Invalid"):
        await sender.send(to="+1000", body="x")
