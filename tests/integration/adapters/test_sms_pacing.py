"""Registration night on the sending numbers: the outbox hands Twilio no more than the numbers
carry, codes first, and never a code that would land after it lapsed (docs/DEPLOYMENT.md
"Sizing the sending numbers"). The real twilio library talks to the local stand-in; the clock is
the backend's ManualClock, moved as the app's loop would. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from stand_ins import SID, TOKEN, TwilioStandIn

from backend.adapters.clock import ManualClock
from backend.adapters.email import LogOnlyEmailSender
from backend.adapters.sms import TwilioSmsSender
from backend.db.engine import transaction
from backend.db.models import AccountStatus, Family
from backend.db.notifications import Channel, Notification, NotificationStatus
from backend.domain.sms_pacing import SendingCapacity
from backend.i18n import sms_segments
from backend.services import dispatch, identification, outbox, sms_queue
from backend.settings import Settings
from bot.channels.sms_render import segments as bot_segments

ONE_LONG_CODE = SendingCapacity(senders=1, segments_per_second=1.0, reply_share=0.5)


@pytest.fixture
def twilio() -> Iterator[TwilioStandIn]:
    stand_in = TwilioStandIn()
    yield stand_in
    stand_in.close()


def _sender(twilio: TwilioStandIn) -> TwilioSmsSender:
    return TwilioSmsSender(
        account_sid=SID, auth_token=TOKEN, from_number="+15815550100", api_base=twilio.base
    )


def _families(db: Session, now: datetime, count: int, *, email: bool = False) -> list[Family]:
    made = []
    for n in range(count):
        family = Family(
            client_number=f"2{n:05d}",
            phone=f"+1418555{n:04d}",
            phone_can_text=True,
            email=f"parent{n}@example.com" if email else None,
            resident=True,
            status=AccountStatus.APPROVED,
            created_at=now,
        )
        db.add(family)
        made.append(family)
    db.flush()
    return made


def _confirmation() -> dict[str, object]:
    return {"amount_cents": 12345}


async def _pass(factory: sessionmaker[Session], clock: ManualClock, twilio: TwilioStandIn,
                capacity: SendingCapacity) -> int:
    return await dispatch.dispatch_pending(
        factory, clock=clock, sms=_sender(twilio), email=LogOnlyEmailSender(), capacity=capacity
    )


async def test_codes_go_out_before_other_texts_when_the_numbers_are_saturated(
    session_factory: sessionmaker[Session], clock: ManualClock, twilio: TwilioStandIn
) -> None:
    with transaction(session_factory) as db:
        families = _families(db, clock.now(), 13)
        for family in families[:12]:
            outbox.enqueue(db, clock=clock, family=family, kind="late_payment_refunded",
                           params=_confirmation(), channels=[Channel.SMS])
        outbox.enqueue(db, clock=clock, family=families[12], kind="otp",
                       params={"code": "424242"}, channels=[Channel.SMS])

    start = clock.now()
    handed: list[tuple[float, int]] = []  # (seconds since start, segments handed so far)
    total = 0
    while clock.now() - start < timedelta(minutes=3):
        await _pass(session_factory, clock, twilio, ONE_LONG_CODE)
        bodies = twilio.bodies()
        total = sum(sms_segments(b) for b in bodies)
        handed.append(((clock.now() - start).total_seconds(), total))
        clock.advance(timedelta(seconds=2))

    bodies = twilio.bodies()
    assert "424242" in bodies[0]  # written last, sent first
    assert len(bodies) == 13  # everything went out in the end, once
    # Never more than the numbers carry for the outbox (half of 1 segment/s), plus the burst
    # and the one text that may start a pass.
    for elapsed, segments_so_far in handed:
        allowed = ONE_LONG_CODE.outbox_rate * elapsed + ONE_LONG_CODE.burst_seconds * 0.5 + 3
        assert segments_so_far <= allowed, (elapsed, segments_so_far)


async def test_a_code_that_would_land_after_it_lapsed_is_not_sent(
    session_factory: sessionmaker[Session], clock: ManualClock, twilio: TwilioStandIn
) -> None:
    # One segment every 200 s for the outbox: the fourth code of a 10-minute life would land
    # at minute 10, with no time left to type it.
    slow = SendingCapacity(senders=1, segments_per_second=0.01, reply_share=0.5)
    with transaction(session_factory) as db:
        for n, family in enumerate(_families(db, clock.now(), 5)):
            outbox.enqueue(db, clock=clock, family=family, kind="otp",
                           params={"code": f"10000{n}"}, channels=[Channel.SMS])
    start = clock.now()
    while clock.now() - start < timedelta(minutes=12):
        await _pass(session_factory, clock, twilio, slow)
        clock.advance(timedelta(seconds=10))

    sent_codes = sorted(b for b in twilio.bodies())
    assert [("10000" + str(n)) in " ".join(sent_codes) for n in range(5)] == [
        True, True, True, False, False
    ]
    with transaction(session_factory) as db:
        rows = db.scalars(select(Notification).order_by(Notification.id)).all()
        assert [r.status for r in rows] == [NotificationStatus.SENT] * 3 + [
            NotificationStatus.EXPIRED
        ] * 2
        for row in rows[:3]:
            assert row.sent_at is not None and row.expires_at is not None
            assert row.expires_at - row.sent_at >= timedelta(seconds=slow.min_useful_seconds)


async def test_two_dispatchers_share_one_rate(
    session_factory: sessionmaker[Session], clock: ManualClock, twilio: TwilioStandIn
) -> None:
    capacity = SendingCapacity(senders=1, segments_per_second=1.0, reply_share=0.0)
    with transaction(session_factory) as db:
        for family in _families(db, clock.now(), 10):
            outbox.enqueue(db, clock=clock, family=family, kind="late_payment_refunded",
                           params=_confirmation(), channels=[Channel.SMS])
    sent = await asyncio.gather(
        *(_pass(session_factory, clock, twilio, capacity) for _ in range(2))
    )
    segments_each = {sms_segments(b) for b in twilio.bodies()}
    # The pace may run `burst_seconds` ahead of now: that many seconds of segments, plus the
    # text that starts it, and no more, whichever dispatcher handed them over.
    most = int(capacity.burst_seconds * capacity.outbox_rate) // min(segments_each) + 1
    assert 1 <= sum(sent) <= most
    assert len(twilio.bodies()) == sum(sent)


async def test_with_a_long_texto_queue_a_family_with_a_courriel_gets_its_code_by_courriel(
    session_factory: sessionmaker[Session], clock: ManualClock
) -> None:
    settings = Settings(sms_backend="twilio", sms_segments_per_second=1.0, sms_reply_share=0.5)
    with transaction(session_factory) as db:
        quick, slow = _families(db, clock.now(), 2, email=True)
        identification.start(db, client_number=quick.client_number, phone=quick.phone,
                             clock=clock, settings=settings)
        # Registration night: half an hour of codes already waiting for the numbers.
        sms_queue.pace_for_update(db, clock.now()).next_free_at = clock.now() + timedelta(
            minutes=30
        )
        identification.start(db, client_number=slow.client_number, phone=slow.phone,
                             clock=clock, settings=settings)
    with transaction(session_factory) as db:
        channels = {
            r.family_id: r.channel
            for r in db.scalars(select(Notification).where(Notification.kind == "otp"))
        }
    assert channels == {quick.id: Channel.SMS, slow.id: Channel.EMAIL}


@given(st.text(max_size=400))
def test_the_outbox_counts_segments_as_the_sms_channel_does(text: str) -> None:
    assert sms_segments(text) == bot_segments(text)
