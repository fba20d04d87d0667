"""A second installment charged off-session whose answer is lost between the provider's call
and our record: the provider took the money, our attempt has no payment id. localstripe
ignores idempotency keys, so creating again would charge twice: the job finds the payment by
the tags written in its metadata (`find_payment`), by the reconciliation or by the next
charge run, and the installment is paid once. Against the in-process fake and localstripe."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.adapters.clock import ManualClock
from backend.adapters.gateway import GatewayError, Payment, PaymentTags
from backend.db.models import Installment
from backend.db.payment_attempts import PaymentAttempt
from backend.services import installment_charges
from backend.services.installment_charges import RECONCILE_AFTER
from tests.integration.core.helpers import Harness, make_harness, stripe_test_gateway
from tests.integration.money.books import assert_books, deliver
from tests.integration.money.fake_gateway import FakeGateway
from tests.integration.money.fake_gateway import TestableGateway as Gateway
from tests.integration.money.localstripe_books import LocalStripeBooks
from tests.integration.money.scenarios import JULIE, LEA, RIVIERE, hold, order_for, pay


class LosesOffSessionAnswers:
    """The gateway, losing the answer of the next `lose` off-session creates (the provider
    made the payment, then the connection broke)."""

    def __init__(self, inner: Gateway) -> None:
        self.inner = inner
        self.lose = 0
        self.created: list[PaymentTags] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def create_payment(self, **kwargs: Any) -> Payment:
        payment = self.inner.create_payment(**kwargs)
        self.created.append(kwargs["tags"])
        if kwargs.get("off_session") and self.lose:
            self.lose -= 1
            raise GatewayError("APIConnectionError", retryable=True)
        return payment


@pytest.fixture(params=["fake", "localstripe"])
def h(
    request: pytest.FixtureRequest, session_factory: sessionmaker[Session], clock: ManualClock
) -> Harness:
    harness = make_harness(session_factory, clock)
    inner: Any = (
        FakeGateway()
        if request.param == "fake"
        else LocalStripeBooks(stripe_test_gateway(harness.settings))
    )
    harness.gateway = LosesOffSessionAnswers(inner)  # type: ignore[assignment]
    return harness


def gw(h: Harness) -> LosesOffSessionAnswers:
    gateway: LosesOffSessionAnswers = h.gateway  # type: ignore[assignment]
    return gateway


def second_installment_lost(h: Harness) -> int:
    """Two weeks in two installments, the card saved; on the second's date the job charges
    it and the answer is lost. Returns the second installment's id."""
    hold(h, JULIE, LEA, [h.camp_session(RIVIERE, "9-12 ans", n) for n in (2, 3)])
    order_id = order_for(h, JULIE, n=2)
    assert deliver(h, pay(h, order_id, save_card=True))["outcome"] == "paid"
    inst_id, due_on = h.run(
        lambda db: db.execute(
            select(Installment.id, Installment.due_on).where(
                Installment.order_id == order_id, Installment.seq == 2
            )
        ).one()
    )
    while h.clock.now().date() <= due_on:
        h.clock.advance(timedelta(days=1))
    gw(h).lose = 1
    out = installment_charges.charge_due_installments(h.factory, **h.deps)
    assert out == {"charged": 0, "failed": 0}  # nothing recorded: the answer never came
    assert state(h, inst_id) == ("scheduled", [("started", None)])
    return int(inst_id)


def state(h: Harness, inst_id: int) -> tuple[str, list[tuple[str, str | None]]]:
    def q(db: Session) -> tuple[str, list[tuple[str, str | None]]]:
        inst = db.get(Installment, inst_id)
        assert inst is not None
        rows = db.scalars(
            select(PaymentAttempt).where(PaymentAttempt.installment_id == inst_id)
        ).all()
        return inst.status.value, [(r.status.value, r.payment_id) for r in rows]

    return h.run(q)


def paid_once(h: Harness, inst_id: int) -> None:
    status, attempts = state(h, inst_id)
    assert status == "paid"
    assert [a[0] for a in attempts] == ["succeeded"] and attempts[0][1] is not None
    made = [t for t in gw(h).created if t.installment_id == inst_id]
    assert len(made) == 1, made  # one payment at the provider for the installment
    ledger = gw(h).inner.ledger()
    assert sorted(c.amount_cents for c in ledger.values()) == [9500, 9500]
    assert_books(h, ledger)


def test_the_reconciliation_finds_the_payment_whose_answer_was_lost(h: Harness) -> None:
    inst_id = second_installment_lost(h)
    assert installment_charges.reconcile(h.factory, **h.deps) == {"reconciled": 0}  # too soon
    h.clock.advance(RECONCILE_AFTER + timedelta(minutes=1))
    assert installment_charges.reconcile(h.factory, **h.deps) == {"reconciled": 1}
    paid_once(h, inst_id)


def test_the_next_charge_run_finds_it_instead_of_charging_again(h: Harness) -> None:
    inst_id = second_installment_lost(h)
    out = installment_charges.charge_due_installments(h.factory, **h.deps)
    assert out == {"charged": 1, "failed": 0}
    paid_once(h, inst_id)
