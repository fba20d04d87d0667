"""The admission message of registration night, written in the admission's transaction: a text
to the family's phone when it takes texts, and a message into the web conversation it joined
from; once per admission, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.adapters.clock import ManualClock
from backend.db.models import Family
from backend.db.notifications import Notification, NotificationStatus
from backend.services import outbox, queries, rush_admission, rush_staff, waiting_room
from backend.services.staff import INTERNAL
from tests.integration.core.helpers import Harness, make_harness

WEB = "web_" + "ab" * 16


@pytest.fixture
def h(session_factory: sessionmaker[Session], clock: ManualClock) -> Harness:
    return make_harness(session_factory, clock)


def open_rush(h: Harness, *, rate: float = 60, cap: int = 100) -> None:
    season_id = h.run(lambda db: queries.current_season(db).id)
    h.run(lambda db: rush_staff.open_rush(
        db, season_id, opens_at=h.clock.now(), rate_per_minute=rate, cap=cap, clock=h.clock,
        actor=INTERNAL,
    ))


def join(h: Harness, family_id: int, notify: tuple[str, str] | None = None) -> dict[str, Any]:
    return h.run(lambda db: waiting_room.join(
        db, family_id, season_id=None, clock=h.clock, notify=notify
    ))


def step(h: Harness) -> dict[str, int]:
    return h.run(lambda db: rush_admission.step_all(db, clock=h.clock, settings=h.settings))


def admissions(h: Harness) -> list[tuple[int | None, str, str, str]]:
    rows = h.run(lambda db: db.scalars(
        select(Notification).where(Notification.kind == "admission").order_by(Notification.id)
    ).all())
    return [(r.family_id, r.channel.value, r.recipient, r.body) for r in rows]


def test_admitted_families_are_told_by_text_and_in_their_open_chat_once(h: Harness) -> None:
    open_rush(h, rate=60)
    (web, _), (texting, _), (silent, _), (no_phone, _) = h.make_families(4)
    join(h, web, (WEB, "web"))
    join(h, texting, ("sms_" + "cd" * 16, "sms"))
    join(h, silent)
    join(h, no_phone)

    def setup(db: Session) -> str:
        outbox.opt_out(db, db.get(Family, silent).phone, clock=h.clock)
        db.get(Family, no_phone).phone_can_text = False
        return str(db.get(Family, web).phone)

    web_phone = h.run(setup)
    assert admissions(h) == []  # waiting: nobody is told anything yet

    h.clock.advance(timedelta(seconds=10))
    assert step(h)["admitted"] == 4
    sent = admissions(h)
    by_family = {(f, channel): (to, body) for f, channel, to, body in sent}
    # The web family gets the text on its phone and the message in the conversation it joined
    # from; the texting family its phone only (the SMS conversation is that same phone).
    assert set(by_family) == {(web, "sms"), (web, "chat"), (texting, "sms")}
    assert by_family[(web, "sms")][0] == web_phone
    assert by_family[(web, "chat")][0] == WEB
    grace = h.settings.rush_idle_grace_minutes
    for _, body in by_family.values():
        assert "C'est votre tour! Vous pouvez maintenant inscrire vos enfants." in body
        assert f"Votre place est gardée {grace} minutes sans activité." in body
    assert "« continuer »" in by_family[(web, "chat")][1]

    # The turn holds `grace` without activity: the message lapses with it.
    rows = h.run(lambda db: db.scalars(
        select(Notification).where(Notification.kind == "admission")).all())
    assert {r.status for r in rows} == {NotificationStatus.PENDING}
    assert {r.expires_at for r in rows} == {h.clock.now() + timedelta(minutes=grace)}

    # Later steps admit no one again, and write nothing more.
    h.clock.advance(timedelta(seconds=30))
    step(h)
    assert admissions(h) == sent


def test_a_family_let_in_again_after_its_turn_ended_is_told_again(h: Harness) -> None:
    open_rush(h, rate=60)
    ((family, _),) = h.make_families(1)
    join(h, family, (WEB, "web"))
    h.clock.advance(timedelta(seconds=5))
    step(h)
    assert [c for _, c, _, _ in admissions(h)] == ["sms", "chat"]

    # Idle past the grace: the turn is over; joining again puts it at the back, then in.
    h.clock.advance(timedelta(minutes=h.settings.rush_idle_grace_minutes))
    step(h)
    assert join(h, family)["status"] == "waiting"
    h.clock.advance(timedelta(seconds=5))
    step(h)
    # The conversation given at the first join is still where it is told.
    assert [c for _, c, _, _ in admissions(h)] == ["sms", "chat", "sms", "chat"]


def test_the_join_route_refuses_a_phone_as_the_conversation() -> None:
    from pydantic import ValidationError

    from backend.api.waiting_room_schemas import JoinWaitingRoom

    assert JoinWaitingRoom.model_validate({"conversation": WEB}).conversation == WEB
    for bad in ("+18195550101", "web_", "tel_" + "ab" * 16, "web_XYZ"):
        with pytest.raises(ValidationError):
            JoinWaitingRoom.model_validate({"conversation": bad})
