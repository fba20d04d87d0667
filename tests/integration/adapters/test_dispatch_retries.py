"""Retry schedule and failure handling of the dispatcher, with the real twilio library against
the local stand-in: backoff grows, is jittered and capped, never waits past the content's
expiry; a refusal that cannot change is not retried; logs and `last_error` never hold a body,
a code or a recipient."""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from stand_ins import SID, TOKEN, TwilioStandIn

from backend.adapters.clock import ManualClock
from backend.adapters.sms import TwilioSmsSender
from backend.db.engine import transaction
from backend.db.models import AccountStatus, Family
from backend.db.notifications import Channel, Notification, NotificationStatus
from backend.services import dispatch, outbox
from backend.services.dispatch import RetryPolicy

NOW = datetime(2027, 4, 20, 23, 0)


@pytest.fixture
def twilio() -> Iterator[TwilioStandIn]:
    stand_in = TwilioStandIn()
    yield stand_in
    stand_in.close()


class NoEmail:
    async def send(self, *, to: str, subject: str, body: str) -> str:
        raise AssertionError("no courriel in these tests")


def _sender(twilio: TwilioStandIn) -> TwilioSmsSender:
    return TwilioSmsSender(
        account_sid=SID, auth_token=TOKEN, from_number="+15815550100", api_base=twilio.base
    )


def _text(factory: sessionmaker[Session], clock: ManualClock, phone: str, code: str) -> int:
    with transaction(factory) as db:
        family = Family(
            client_number=code,
            phone=phone,
            phone_can_text=True,
            email=None,
            resident=True,
            status=AccountStatus.APPROVED,
            created_at=clock.now(),
        )
        db.add(family)
        db.flush()
        [row] = outbox.enqueue(
            db, clock=clock, family=family, kind="otp", params={"code": code},
            channels=[Channel.SMS],
        )  # fmt: skip
        return row.id


def test_backoff_grows_with_jitter_and_a_cap() -> None:
    policy = RetryPolicy(base_seconds=30, cap_seconds=600)
    rng = random.Random(7)
    for attempts, (low, high) in {1: (15, 30), 2: (30, 60), 3: (60, 120), 6: (300, 600)}.items():
        waits = {policy.delay(attempts, NOW, None, rng).total_seconds() for _ in range(50)}
        assert all(low <= w <= high for w in waits) and len(waits) > 40
    assert policy.delay(40, NOW, None, rng) <= timedelta(seconds=600)


def test_backoff_never_waits_past_half_the_time_left() -> None:
    policy = RetryPolicy(base_seconds=30, cap_seconds=600)
    expires = NOW + timedelta(minutes=4)
    waits = [policy.delay(6, NOW, expires, random.Random(n)) for n in range(20)]
    assert max(waits) <= timedelta(minutes=2)
    assert policy.delay(6, NOW, NOW + timedelta(seconds=1), random.Random(1)) == timedelta(
        seconds=policy.min_seconds
    )


async def test_invalid_number_is_given_up_at_once(
    session_factory: sessionmaker[Session], twilio: TwilioStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    clock = ManualClock(NOW)
    twilio.invalid_numbers.add("+14185550199")
    bad = _text(session_factory, clock, "+14185550199", "424242")
    good = _text(session_factory, clock, "+14185550101", "515151")
    caplog.set_level(logging.DEBUG)
    sms = _sender(twilio)
    assert (
        await dispatch.dispatch_pending(session_factory, clock=clock, sms=sms, email=NoEmail()) == 1
    )
    clock.advance(timedelta(hours=1))
    assert (
        await dispatch.dispatch_pending(session_factory, clock=clock, sms=sms, email=NoEmail()) == 0
    )

    with transaction(session_factory) as db:
        refused, sent = db.get(Notification, bad), db.get(Notification, good)
        assert refused is not None and sent is not None
        assert (refused.status, refused.attempts) == (NotificationStatus.FAILED, 1)
        assert refused.last_error == "twilio_400_21211" and refused.next_attempt_at is None
        assert sent.status is NotificationStatus.SENT
    assert [b for b in twilio.bodies() if "424242" in b] == []
    logged = "\n".join(r.getMessage() + str(r.exc_info or "") for r in caplog.records)
    assert "not sent" in logged
    assert "424242" not in logged and "5550199" not in logged and "515151" not in logged


async def test_retries_stop_after_max_attempts(
    session_factory: sessionmaker[Session], twilio: TwilioStandIn
) -> None:
    clock = ManualClock(NOW)
    twilio.down = True
    with transaction(session_factory) as db:
        family = Family(
            client_number="100001", phone="+14185550101", phone_can_text=True, email=None,
            resident=True, status=AccountStatus.APPROVED, created_at=NOW,
        )  # fmt: skip
        db.add(family)
        db.flush()
        outbox.enqueue(db, clock=clock, family=family, kind="account_approved", params={})
    policy = RetryPolicy(base_seconds=1, cap_seconds=2, max_attempts=4)
    sms = _sender(twilio)
    for _ in range(10):
        await dispatch.dispatch_pending(
            session_factory, clock=clock, sms=sms, email=NoEmail(), policy=policy
        )
        clock.advance(timedelta(seconds=5))
    assert twilio.refused == 4
    with transaction(session_factory) as db:
        row = db.scalars(select(Notification)).one()
        assert (row.status, row.attempts, row.last_error) == (
            NotificationStatus.FAILED, 4, "twilio_503_20503",
        )  # fmt: skip


async def test_a_newer_code_replaces_a_waiting_one(
    session_factory: sessionmaker[Session], twilio: TwilioStandIn
) -> None:
    """A parent who asked again during an outage gets the newest code only, not a stale one
    that no longer opens the challenge."""
    clock = ManualClock(NOW)
    twilio.down = True
    sms = _sender(twilio)
    with transaction(session_factory) as db:
        family = Family(
            client_number="100001", phone="+14185550101", phone_can_text=True, email=None,
            resident=True, status=AccountStatus.APPROVED, created_at=NOW,
        )  # fmt: skip
        db.add(family)
        db.flush()
        outbox.enqueue(db, clock=clock, family=family, kind="otp", params={"code": "101010"})
    await dispatch.dispatch_pending(session_factory, clock=clock, sms=sms, email=NoEmail())
    clock.advance(timedelta(minutes=1))
    with transaction(session_factory) as db:
        family = db.scalars(select(Family)).one()
        outbox.enqueue(db, clock=clock, family=family, kind="otp", params={"code": "202020"})
    twilio.down = False
    for _ in range(8):
        clock.advance(timedelta(seconds=30))
        await dispatch.dispatch_pending(session_factory, clock=clock, sms=sms, email=NoEmail())
    assert [b for b in twilio.bodies() if "101010" in b] == []
    assert len([b for b in twilio.bodies() if "202020" in b]) == 1
