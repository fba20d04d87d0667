"""The outbox: French rendering per channel, SMS limits, opt-outs honoured by the dispatcher."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.adapters.clock import ManualClock
from backend.adapters.email import LogOnlyEmailSender
from backend.adapters.sms import LogOnlySmsSender
from backend.db.base import Base
from backend.db.engine import make_engine, make_session_factory, transaction
from backend.db.models import AccountStatus, Family
from backend.db.notifications import Channel, Notification, NotificationStatus
from backend.i18n import format_date, format_money, format_time, sms_segments
from backend.services import dispatch, messages, outbox, phones

NOW = datetime(2027, 4, 20, 23, 0)  # 19 h in Québec


@pytest.fixture
def factory(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'outbox.db'}")
    Base.metadata.create_all(engine)
    yield make_session_factory(engine)
    engine.dispose()


def _family(
    db: Session, *, can_text: bool = True, email: str | None = "julie@example.com"
) -> Family:
    family = Family(
        client_number="100001",
        phone="+14185550101",
        phone_can_text=can_text,
        email=email,
        resident=True,
        status=AccountStatus.APPROVED,
        created_at=NOW,
    )
    db.add(family)
    db.flush()
    return family


SAMPLES: dict[str, dict[str, object]] = {
    "otp": {"code": "123456"},
    "admission": {"grace_minutes": 10, "expires_at": "2027-04-20T23:10:00"},
    "payment_link": {
        "order_id": 5,
        "url": "http://localhost:8000/p/Ab3xY7",
        "total_cents": 40500,
        "due_now_cents": 20250,
        "installments": [
            {"seq": 1, "due_on": "2027-04-20", "amount_cents": 20250, "status": "due"},
            {"seq": 2, "due_on": "2027-05-20", "amount_cents": 20250, "status": "scheduled"},
        ],
    },
    "waitlist_offer": {
        "child": "Thomas",
        "program": "Camp de jour",
        "group": "7-8 ans",
        "site": "Parc des Érables",
        "week": 1,
        "starts_on": "2027-06-28",
        "ends_on": "2027-07-02",
        "deadline": datetime(2027, 4, 22, 23, 0),
        "url": "http://localhost:8000/p/Zz9xY7",
    },
    "confirmation": {
        "lines": [
            {
                "child": "Léa",
                "program": "Camp de jour",
                "group": "9-12 ans",
                "site": "Parc de la Rivière",
                "starts_on": date(2027, 7, 5),
                "ends_on": date(2027, 7, 9),
                "price_cents": 13500,
            },
            {
                "child": "Thomas",
                "program": "Camp de jour",
                "group": "7-8 ans",
                "site": "Parc des Érables",
                "starts_on": "2027-07-12",
                "ends_on": "2027-07-16",
                "price_cents": 9500,
            },
        ],
        "paid_cents": 11500,
        "due": [{"due_on": "2027-05-20", "amount_cents": 11500}],
    },
    "installment_failed": {"amount_cents": 20250, "url": "http://localhost:8000/p/Qq1"},
    "late_payment_refunded": {"amount_cents": 9500},
    "deferred_registered": {
        "lines": [
            {
                "child": "Léa",
                "program": "Natation Junior",
                "starts_on": "2027-07-03",
                "ends_on": "2027-08-21",
            }
        ]
    },
    "offer_expired": {"child": "Thomas", "program": "Camp de jour", "week": 1},
    "account_approved": {},
}


def test_babel_formats() -> None:
    assert format_money(9500) == "95,00\u00a0$"
    assert format_money(123450) == "1\u00a0234,50\u00a0$"
    assert format_date(date(2027, 6, 28)) == "lundi 28 juin 2027"
    assert format_time(datetime(2027, 4, 20, 19, 0)) == "19 h"
    assert format_time(datetime(2027, 4, 20, 8, 30)) == "8 h 30"


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_every_kind_renders_for_both_channels(kind: str) -> None:
    sms = messages.render(kind, SAMPLES[kind], Channel.SMS)
    mail = messages.render(kind, SAMPLES[kind], Channel.EMAIL)
    assert sms.subject == "" and mail.subject
    assert sms_segments(sms.body) <= 3, sms.body
    assert "\u00a0" not in sms.body and "\u2019" not in sms.body
    assert "%(" not in sms.body + mail.body + mail.subject
    url = SAMPLES[kind].get("url")
    if url:
        assert str(url) in sms.body.splitlines()  # the link alone on its line
        assert str(url) in mail.body


def test_sms_texts_are_french_with_figures() -> None:
    sms = messages.render("payment_link", SAMPLES["payment_link"], Channel.SMS).body
    assert "405,00 $" in sms and "202,50 $" in sms
    assert "202,50 $ le 20 mai" in sms  # the second installment's date, not "dans un mois"
    mail = messages.render("confirmation", SAMPLES["confirmation"], Channel.EMAIL).body
    assert "Léa" in mail and "Parc de la Rivière" in mail and "135,00\u00a0$" in mail
    assert "fiche santé" in mail
    # what was paid today, and what is still due and by when
    assert "115,00\u00a0$ payés aujourd'hui" in mail
    assert "115,00\u00a0$ restent à payer d'ici le 20 mai 2027" in mail
    offer = messages.render("waitlist_offer", SAMPLES["waitlist_offer"], Channel.SMS).body
    assert "jeudi 22 avril 2027 à 19 h" in offer


def test_segments() -> None:
    assert sms_segments("a" * 160) == 1
    assert sms_segments("a" * 161) == 2
    assert sms_segments("é" * 160) == 1  # é is GSM-7
    assert sms_segments("ê" + "a" * 69) == 1
    assert sms_segments("ê" + "a" * 70) == 2
    assert sms_segments("95,00\u00a0$") == 1 and sms_segments("x" * 80 + "\u00a0") == 2


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("418-555-0101", "+14185550101"),
        ("(418) 555-0101", "+14185550101"),
        ("4185550101", "+14185550101"),
        ("1 418 555 0101", "+14185550101"),
        ("+14185550101", "+14185550101"),
        ("+33 1 23 45 67 89", "+33123456789"),
        ("555-0101", None),
        ("", None),
        ("bonjour", None),
        ("0185550101", None),
        ("+12345678", None),  # a "+" and 8 digits: no such number
        ("+1 911 555 0101", None),  # no area code 911
        ("418.555.0101", "+14185550101"),
    ],
)
def test_normalize_phone(raw: str, expected: str | None) -> None:
    assert phones.normalize_phone(raw) == expected


def test_same_phone_whatever_the_spelling() -> None:
    assert phones.same_phone("(418) 555-0101", "+14185550101")
    assert phones.same_phone("1 418 555 0101", "418-555-0101")
    assert not phones.same_phone("418-555-0102", "+14185550101")
    assert not phones.same_phone("bonjour", "+14185550101")


def test_enqueue_default_channels(factory: sessionmaker[Session]) -> None:
    clock = ManualClock(NOW)
    with transaction(factory) as db:
        family = _family(db)
        rows = outbox.enqueue(db, clock=clock, family=family, kind="otp", params={"code": "654321"})
    assert [r.channel for r in rows] == [Channel.SMS, Channel.EMAIL]
    assert rows[0].recipient == "+14185550101" and "654321" in rows[0].body
    assert rows[1].recipient == "julie@example.com" and "654321" in rows[1].subject
    with transaction(factory) as db:
        family = db.scalars(select(Family)).one()
        family.phone_can_text = False
        rows = outbox.enqueue(db, clock=clock, family=family, kind="otp", params={"code": "1"})
    assert [r.channel for r in rows] == [Channel.EMAIL]


class Recorder:
    def __init__(self, fail: int = 0) -> None:
        self.sent: list[dict[str, str]] = []
        self.fail = fail

    async def send(self, **kwargs: str) -> str:
        if self.fail:
            self.fail -= 1
            raise RuntimeError("provider down")
        self.sent.append(kwargs)
        return f"id-{len(self.sent)}"


async def test_dispatch_honours_opt_out_and_retries(factory: sessionmaker[Session]) -> None:
    clock = ManualClock(NOW)
    with transaction(factory) as db:
        family = _family(db)
        outbox.enqueue(db, clock=clock, family=family, kind="otp", params={"code": "111111"})
        outbox.opt_out(db, "418-555-0101", clock=clock)
        assert outbox.is_opted_out(db, "(418) 555-0101")
    sms, mail = Recorder(), Recorder(fail=1)
    assert await dispatch.dispatch_pending(factory, clock=clock, sms=sms, email=mail) == 0
    with transaction(factory) as db:
        statuses = {n.channel: (n.status, n.attempts) for n in db.scalars(select(Notification))}
    assert statuses[Channel.SMS] == (NotificationStatus.SUPPRESSED, 0)
    assert statuses[Channel.EMAIL] == (NotificationStatus.PENDING, 1)
    assert sms.sent == []

    # The failed courriel is retried once its next attempt is due; the suppressed SMS never is.
    assert await dispatch.dispatch_pending(factory, clock=clock, sms=sms, email=mail) == 0
    clock.advance(timedelta(seconds=30))
    assert await dispatch.dispatch_pending(factory, clock=clock, sms=sms, email=mail) == 1
    assert sms.sent == [] and len(mail.sent) == 1 and mail.sent[0]["to"] == "julie@example.com"
    with transaction(factory) as db:
        sent = db.scalars(select(Notification).where(Notification.channel == Channel.EMAIL)).one()
        assert sent.status is NotificationStatus.SENT and sent.provider_id == "id-1"

    # After START, later texts go out again.
    with transaction(factory) as db:
        outbox.opt_in(db, "+14185550101")
        family = db.scalars(select(Family)).one()
        outbox.enqueue(
            db,
            clock=clock,
            family=family,
            kind="otp",
            params={"code": "222222"},
            channels=[Channel.SMS],
        )
    assert await dispatch.dispatch_pending(factory, clock=clock, sms=sms, email=mail) == 1
    assert sms.sent[0]["to"] == "+14185550101" and "222222" in sms.sent[0]["body"]


async def test_demo_senders_never_log_a_code_or_a_whole_recipient(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    body = messages.render("otp", {"code": "987654"}, Channel.SMS).body
    await LogOnlySmsSender().send(to="+14185550101", body=body)
    mail = messages.render("otp", {"code": "987654"}, Channel.EMAIL)
    await LogOnlyEmailSender().send(to="julie@example.com", subject=mail.subject, body=mail.body)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "kept in the outbox" in logged
    assert "987654" not in logged and "5550101" not in logged and "julie@" not in logged
