"""Staff cancelling a paid registration: the amount paid for that line goes back through the
gateway (pro rata with two installments), what is still due shrinks or is cancelled, the payer
is told, and the freed place goes to the waitlist. On SQLite and PostgreSQL, at a set clock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from localstripe_process import SECRET_KEY, shared
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.adapters.clock import ManualClock
from backend.adapters.gateway import RefundResult
from backend.adapters.stripe_gateway import StripeGateway
from backend.db.models import Installment, Line, LineStatus, Order, Refund
from backend.jobs import run_due_jobs
from backend.services import checkout, staff
from backend.settings import Settings
from tests.integration.core.helpers import Harness, make_harness
from tests.integration.core.test_core import add, deliver, do_checkout, pay

RIVIERE = "Parc de la Rivière"


class RecordingGateway(StripeGateway):
    """The Stripe adapter over localstripe, remembering the refunds it was asked for (and able
    to refuse them, as the provider may)."""

    refuse = False

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.refunds: list[dict[str, Any]] = []

    def refund(self, *, payment_id: str, amount_cents: int, idempotency_key: str) -> RefundResult:
        if self.refuse:
            return RefundResult(
                id="", ok=False, amount_cents=amount_cents, decline_code="processing_error"
            )
        self.refunds.append({"charge_id": payment_id, "amount_cents": amount_cents})
        return super().refund(
            payment_id=payment_id, amount_cents=amount_cents, idempotency_key=idempotency_key
        )


def recording_gateway(settings: Settings) -> RecordingGateway:
    return RecordingGateway(
        secret_key=SECRET_KEY,
        webhook_secret=settings.stripe_webhook_secret,
        app_name=settings.stripe_app_name,
        api_base=shared().base,
        max_network_retries=0,
    )


@pytest.fixture
def h(session_factory: sessionmaker[Session], clock: ManualClock) -> Harness:
    harness = make_harness(session_factory, clock)
    harness.gateway = recording_gateway(harness.settings)
    return harness


def _order(h: Harness, order_id: int) -> dict[str, Any]:
    def view(db: Session) -> dict[str, Any]:
        order = db.get(Order, order_id)
        assert order is not None
        return {
            "status": order.status.value,
            "total": order.total_cents,
            "installments": [(i.seq, i.status.value, i.amount_cents) for i in order.installments],
            "view": checkout.order_view(db, order.family_id, order_id),
        }

    return h.run(view)


def _lines(h: Harness, order_id: int) -> list[Line]:
    return h.run(lambda db: list(db.scalars(
        select(Line).where(Line.order_id == order_id).order_by(Line.id))))


def _cancel(h: Harness, line_id: int) -> dict[str, Any]:
    return h.run(lambda db: staff.cancel_line(db, line_id, **h.deps))


def test_two_installments_refund_pro_rata_then_cancel_the_rest(h: Harness) -> None:
    weeks = [h.camp_session(RIVIERE, "9-12 ans", n) for n in (2, 3)]
    add(h, "100001", ("Léa", "Tremblay"), weeks)
    order_id = do_checkout(h, "100001", n=2)["order_id"]
    assert deliver(h, pay(h, order_id, save=True))["outcome"] == "paid"
    before = _order(h, order_id)
    assert before["installments"] == [(1, "paid", 9500), (2, "scheduled", 9500)]
    week2, week3 = _lines(h, order_id)

    # Week 3 cancelled: it cost 95 $ of 190 $; half of its price was paid (47,50 $), half due.
    out = _cancel(h, week3.id)
    assert out["status"] == "cancelled" and out["refunded_cents"] == 4750
    assert h.gateway.refunds == [  # type: ignore[attr-defined]
        {"charge_id": h.run(lambda db: db.scalar(
            select(Installment.charge_id).where(Installment.order_id == order_id,
                                                Installment.seq == 1))),
         "amount_cents": 4750}
    ]
    after = _order(h, order_id)
    assert after["status"] == "partially_paid" and after["total"] == 9500
    assert after["installments"] == [(1, "paid", 9500), (2, "scheduled", 4750)]
    assert after["view"]["paid_cents"] == 4750 and after["view"]["due_cents"] == 4750
    julie = h.family_id("100001")
    sms, email = sorted(h.notifications("registration_cancelled", julie),
                        key=lambda n: n.channel.value, reverse=True)
    assert sms.channel.value == "sms" and "47,50 $" in sms.body and "Léa" in sms.body
    assert "annulée" in sms.body and "\u00a0" not in sms.body
    assert "Le versement prévu le jeudi 20 mai 2027 est maintenant de 47,50" in email.body

    # Week 2 cancelled too: the rest of the first payment comes back, the second is cancelled.
    out = _cancel(h, week2.id)
    assert out["refunded_cents"] == 4750
    assert out["cancelled_installments"] == [
        {"seq": 2, "due_on": "2027-05-20", "amount_cents": 4750}
    ]
    final = _order(h, order_id)
    assert final["status"] == "refunded" and final["total"] == 0
    assert final["installments"] == [(1, "refunded", 9500), (2, "cancelled", 0)]
    assert final["view"]["paid_cents"] == 0 and final["view"]["refunded_cents"] == 9500
    last = h.notifications("registration_cancelled", julie)[-1]
    assert "est annulé : il ne sera pas prélevé" in last.body
    refunds = h.run(lambda db: [(r.line_id, r.amount_cents, r.reason)
                                for r in db.scalars(select(Refund).order_by(Refund.id))])
    assert refunds == [(week3.id, 4750, "cancellation"), (week2.id, 4750, "cancellation")]

    # A month later the job charges nothing: the second installment no longer exists.
    h.clock.advance(timedelta(days=31))
    assert run_due_jobs(h.factory, **h.deps)["installments"] == {"charged": 0, "failed": 0}
    # Cancelling again changes nothing and refunds nothing more.
    assert _cancel(h, week2.id)["refunded_cents"] == 0
    assert len(h.gateway.refunds) == 2  # type: ignore[attr-defined]
    h.assert_capacity_exact()


def test_the_freed_place_is_offered_to_the_waitlist(h: Harness) -> None:
    week = h.camp_session(RIVIERE, "9-12 ans", 4)
    h.run(lambda db: staff.set_capacity(db, week, 1, **h.deps))
    add(h, "100002", ("Emma", "Gagnon"), [week])
    order_id = do_checkout(h, "100002")["order_id"]
    deliver(h, pay(h, order_id))
    waiting = add(h, "100001", ("Léa", "Tremblay"), [week], join_waitlist=True)
    assert waiting["results"][0]["outcome"] == "waitlisted"

    (emma_line,) = _lines(h, order_id)
    assert _cancel(h, emma_line.id)["refunded_cents"] == 9500  # one payment: all of it
    assert _order(h, order_id)["status"] == "refunded"
    lea_line = h.run(lambda db: db.get(Line, waiting["results"][0]["line_id"]))
    assert lea_line.status == LineStatus.OFFERED
    assert h.notifications("waitlist_offer", h.family_id("100001"))
    h.assert_capacity_exact()


def test_a_refused_refund_is_left_to_staff_and_the_cancellation_stands(h: Harness) -> None:
    """The provider is asked after the cancellation is committed: when it refuses, the refund
    is marked failed (shown on the order for staff), never silently dropped."""
    week = h.camp_session(RIVIERE, "9-12 ans", 5)
    add(h, "100001", ("Léa", "Tremblay"), [week])
    order_id = do_checkout(h, "100001")["order_id"]
    deliver(h, pay(h, order_id))
    (line,) = _lines(h, order_id)
    h.gateway.refuse = True  # type: ignore[attr-defined]
    assert _cancel(h, line.id)["refunded_cents"] == 9500
    assert h.run(lambda db: db.get(Line, line.id)).status == LineStatus.CANCELLED
    refund = h.run(lambda db: db.scalars(select(Refund)).one())
    assert (refund.status.value, refund.failure_code) == ("failed", "processing_error")
    view = _order(h, order_id)["view"]
    assert view["refund_failed_cents"] == 9500 and view["refunded_cents"] == 0
    # The job does not ask again for a refund the provider refused.
    h.gateway.refuse = False  # type: ignore[attr-defined]
    h.clock.advance(timedelta(hours=1))
    assert run_due_jobs(h.factory, **h.deps)["refunds"] == {"sent": 0, "failed": 0, "pending": 0}
    assert h.gateway.refunds == []  # type: ignore[attr-defined]
    h.assert_capacity_exact()
