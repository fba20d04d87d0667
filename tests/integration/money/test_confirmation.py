"""What the confirmation says, as the family reads it (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from backend.adapters.clock import ManualClock
from backend.db.models import Family
from backend.db.notifications import Channel
from backend.services import cart
from tests.integration.core.helpers import Harness, make_harness
from tests.integration.money.books import deliver
from tests.integration.money.fake_gateway import FakeGateway
from tests.integration.money.scenarios import JULIE, LEA, RIVIERE, fill, hold, order_for, pay


@pytest.fixture
def h(session_factory: sessionmaker[Session], clock: ManualClock) -> Harness:
    harness = make_harness(session_factory, clock)
    harness.gateway = FakeGateway()  # type: ignore[assignment]
    return harness


def test_two_installments_say_what_was_paid_what_is_due_and_who_still_waits(h: Harness) -> None:
    weeks = [h.camp_session(RIVIERE, "9-12 ans", n) for n in (2, 3, 4)]
    full = h.camp_session("Parc des Érables", "7-8 ans", 5)
    fill(h, full)
    hold(h, JULIE, ("Thomas", "Tremblay"), [full], wait=True)
    hold(h, JULIE, LEA, weeks)
    order_id = order_for(h, JULIE, n=2)  # 285 $: 142,50 $ now, 142,50 $ on 20 May
    assert deliver(h, pay(h, order_id, save_card=True))["outcome"] == "paid"

    sms, email = sorted(
        h.notifications("confirmation", h.family_id(JULIE)), key=lambda n: n.channel.value
    )[::-1]
    assert sms.channel is Channel.SMS and email.channel is Channel.EMAIL
    said = (
        "142,50 $ payés aujourd'hui avec la carte se terminant par 4242 ; 142,50 $ seront "
        "prélevés le 20 mai 2027."
    )
    assert said in sms.body
    assert said.replace(" $", "\u00a0$") in email.body
    for body in (sms.body, email.body):
        assert "Thomas, Camp de jour, semaine 5 (rang 1)" in body
    assert "Détails par courriel" in sms.body


def test_a_family_without_courriel_is_never_promised_one(h: Harness) -> None:
    ((family_id, child_id),) = h.make_families(1)
    week = h.camp_session("Parc des Érables", "7-8 ans", 2)
    h.run(lambda db: cart.add_lines(db, family_id, child_id=child_id, session_ids=[week], **h.deps))
    client = h.run(lambda db: db.get(Family, family_id).client_number)  # type: ignore[union-attr]
    order_id = order_for(h, client)
    assert deliver(h, pay(h, order_id))["outcome"] == "paid"
    (sms,) = h.notifications("confirmation", family_id)
    assert sms.channel is Channel.SMS
    # Paid without keeping the card: nothing is said to be charged later.
    assert "95,00 $ payés aujourd'hui avec la carte se terminant par 4242." in sms.body
    assert "courriel" not in sms.body
