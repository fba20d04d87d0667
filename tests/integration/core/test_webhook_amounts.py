"""A completed checkout whose amount is not the installment's: recorded (event, refund ledger,
log), refunded in full, never confirms; the right amount afterwards still confirms. A second,
distinct payment of an installment already paid is refunded too. SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.adapters.clock import ManualClock
from backend.db.models import GatewayEvent, Installment, Line, LineStatus, Order, Refund
from backend.services import checkout
from tests.integration.core.helpers import Harness, make_harness, pay_at_provider
from tests.integration.core.test_core import Paid, add, deliver, do_checkout

RIVIERE = "Parc de la Rivière"


@pytest.fixture
def h(session_factory: sessionmaker[Session], clock: ManualClock) -> Harness:
    return make_harness(session_factory, clock)


def _event(h: Harness, order_id: int, amount_cents: int) -> Paid:
    """A payment of `amount_cents` at the provider, tagged with the link's installment."""
    return Paid(pay_at_provider(h, order_id, amount_cents=amount_cents), save=False)


def _state(h: Harness, order_id: int) -> dict[str, Any]:
    def read(db: Session) -> dict[str, Any]:
        order = db.get(Order, order_id)
        assert order is not None
        return {
            "order": order.status.value,
            "installment": db.scalar(select(Installment.status).where(
                Installment.order_id == order_id)).value,
            "lines": [
                ln.status for ln in db.scalars(select(Line).where(Line.order_id == order_id))
            ],
            "refunds": [(r.amount_cents, r.reason) for r in db.scalars(
                select(Refund).where(Refund.order_id == order_id).order_by(Refund.id))],
            "events": len(db.scalars(select(GatewayEvent.event_id)).all()),
            "paid": checkout.order_view(db, order.family_id, order_id)["paid_cents"],
        }

    return h.run(read)


def test_a_wrong_amount_is_refunded_and_does_not_confirm(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    add(h, "100001", ("Léa", "Tremblay"), [h.camp_session(RIVIERE, "9-12 ans", 2)])
    order_id = do_checkout(h, "100001")["order_id"]  # 95,00 $ in one payment

    short = _event(h, order_id, 100)  # 1,00 $ instead of 95,00 $
    with caplog.at_level(logging.WARNING, logger="backend.services.payments"):
        result = deliver(h, short)
    assert result["outcome"] == "amount_mismatch"
    assert "paid 100 cents" in caplog.text and "asks 9500" in caplog.text
    state = _state(h, order_id)
    assert state["order"] == "awaiting_payment" and state["installment"] == "scheduled"
    assert state["lines"] == [LineStatus.HELD] and state["paid"] == 0
    assert state["refunds"] == [(100, "amount_mismatch")]
    assert state["events"] == 1  # recorded: a retry of this event is recognised
    julie = h.family_id("100001")
    assert not h.notifications("confirmation", julie)
    (sms,) = [n for n in h.notifications("payment_amount_refunded", julie)
              if n.channel.value == "sms"]
    assert "1,00 $" in sms.body and "95,00 $" in sms.body and "/p/" in sms.body
    # The same event again changes nothing (and refunds nothing twice).
    assert deliver(h, short)["outcome"] == "duplicate"
    assert _state(h, order_id)["refunds"] == [(100, "amount_mismatch")]

    # Too much is no better than too little.
    assert deliver(h, _event(h, order_id, 19000))["outcome"] == "amount_mismatch"

    # The right amount confirms.
    assert deliver(h, _event(h, order_id, 9500))["outcome"] == "paid"
    state = _state(h, order_id)
    assert state["order"] == "paid" and state["lines"] == [LineStatus.CONFIRMED]
    assert state["paid"] == 9500

    # A second, distinct payment of the same installment is given back.
    assert deliver(h, _event(h, order_id, 9500))["outcome"] == "already_paid"
    assert _state(h, order_id)["refunds"] == [
        (100, "amount_mismatch"), (19000, "amount_mismatch"), (9500, "duplicate_payment")
    ]
    assert _state(h, order_id)["paid"] == 9500
    h.assert_capacity_exact()
