"""A 10-minute texto and courriel outage, on the backend's clock, loses nothing.

The real twilio library and the real SMTP client talk to local stand-ins that refuse (Twilio
answers 503, the SMTP port is closed) for the first 10 minutes, then recover. The test moves
the ManualClock 15 s at a time and runs the dispatcher as the app's loop would. Afterwards every
code, link and offer still valid was delivered exactly once, and those that lapsed during the
outage were not delivered at all (marked expired). Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from stand_ins import SID, TOKEN, SmtpStandIn, TwilioStandIn

from backend.adapters.clock import ManualClock
from backend.adapters.email import SmtpEmailSender
from backend.adapters.sms import TwilioSmsSender
from backend.db.engine import transaction
from backend.db.models import AccountStatus, Family
from backend.db.notifications import Channel, Notification, NotificationStatus
from backend.services import dispatch, outbox

OUTAGE = timedelta(minutes=10)
STEP = timedelta(seconds=15)


@pytest.fixture
def twilio() -> Iterator[TwilioStandIn]:
    stand_in = TwilioStandIn()
    yield stand_in
    stand_in.close()


@pytest.fixture
def smtp() -> Iterator[SmtpStandIn]:
    stand_in = SmtpStandIn()
    yield stand_in
    stand_in.stop()


def _family(db: Session, now: datetime, client_number: str) -> Family:
    """One family per one-time code: a newer code would replace a waiting one."""
    family = db.scalars(select(Family).where(Family.client_number == client_number)).first()
    if family is not None:
        return family
    n = int(client_number) % 100
    family = Family(
        client_number=client_number,
        phone=f"+141855501{n:02d}",
        phone_can_text=True,
        email=f"parent{n}@example.com",
        resident=True,
        status=AccountStatus.APPROVED,
        created_at=now,
    )
    db.add(family)
    db.flush()
    return family


def _link(token: str, expires: datetime) -> dict[str, object]:
    return {
        "order_id": 7,
        "url": f"http://localhost:8000/p/{token}",
        "total_cents": 9500,
        "due_now_cents": 9500,
        "expires_at": expires.isoformat(),
        "installments": [{"seq": 1, "due_on": "2027-04-20", "amount_cents": 9500}],
    }


def _offer(token: str, deadline: datetime) -> dict[str, object]:
    return {
        "child": "Thomas",
        "program": "Camp de jour",
        "group": "7-8 ans",
        "site": "Parc des Érables",
        "week": 1,
        "starts_on": "2027-06-28",
        "ends_on": "2027-07-02",
        "deadline": deadline.isoformat(),
        "url": f"http://localhost:8000/p/{token}",
    }


async def test_ten_minute_outage_loses_nothing_and_delivers_nothing_stale(
    session_factory: sessionmaker[Session],
    clock: ManualClock,
    twilio: TwilioStandIn,
    smtp: SmtpStandIn,
) -> None:
    start = clock.now()
    twilio.down = True  # the SMTP stand-in is not started: its port refuses connections
    # (minutes after the outage began, kind, params, marker found in the text, still valid?)
    plan: list[tuple[int, str, dict[str, object], str, bool]] = [
        (0, "otp", {"code": "111111"}, "111111", False),  # 10 min code, lapses at recovery
        (0, "payment_link", _link("Short5min", start + timedelta(minutes=5)), "Short5min", False),
        (0, "payment_link", _link("Link30min", start + timedelta(minutes=30)), "Link30min", True),
        (0, "waitlist_offer", _offer("Offer48h", start + timedelta(hours=48)), "Offer48h", True),
        (3, "late_payment_refunded", {"amount_cents": 12345}, "123,45", True),
        (8, "otp", {"code": "222222"}, "222222", True),  # valid until minute 18
        (12, "otp", {"code": "333333"}, "333333", True),  # after the recovery
    ]
    sms = TwilioSmsSender(
        account_sid=SID, auth_token=TOKEN, from_number="+15815550100", api_base=twilio.base
    )
    email = SmtpEmailSender(
        host="127.0.0.1", port=smtp.port, sender="inscriptions@val-fleuri.example", timeout=5
    )
    rng = random.Random(20270420)
    recovered = False
    pending = list(plan)
    while clock.now() - start <= timedelta(minutes=40):
        elapsed = clock.now() - start
        if not recovered and elapsed >= OUTAGE:
            twilio.down = False
            smtp.start()
            recovered = True
        while pending and timedelta(minutes=pending[0][0]) <= elapsed:
            _at, kind, params, _marker, _valid = pending.pop(0)
            with transaction(session_factory) as db:
                who = str(params.get("code", "100001"))[:1]
                family = _family(db, clock.now(), f"10000{who}")
                outbox.enqueue(db, clock=clock, family=family, kind=kind, params=params)
        await dispatch.dispatch_pending(session_factory, clock=clock, sms=sms, email=email, rng=rng)
        clock.advance(STEP)

    assert twilio.refused > 0  # the outage was real
    texts = twilio.bodies()
    mails = [m.content.decode("utf-8", "replace") for m in smtp.messages()]
    for _at, kind, _params, marker, valid in plan:
        in_texts = sum(marker in body for body in texts)
        in_mails = sum(marker in body for body in mails)
        expected = 1 if valid else 0
        assert (in_texts, in_mails) == (expected, expected), (kind, marker)

    with transaction(session_factory) as db:
        rows = db.scalars(select(Notification).order_by(Notification.id)).all()
        assert len(rows) == 2 * len(plan)
        for row in rows:
            assert row.status in (NotificationStatus.SENT, NotificationStatus.EXPIRED), row.kind
            if row.status is NotificationStatus.SENT and row.expires_at is not None:
                assert row.sent_at is not None and row.sent_at <= row.expires_at
        retried = [r for r in rows if r.created_at == start and r.attempts > 1]
        assert retried, "the messages written at the start were tried during the outage"
        errors = {r.last_error for r in rows if r.last_error}
        assert errors <= {"twilio_503_20503", "smtp_unreachable"}, errors
        assert {r.channel for r in rows if r.status is NotificationStatus.EXPIRED} == {
            Channel.SMS,
            Channel.EMAIL,
        }
