"""No refund asked of the provider inside a database transaction: the row is recorded
pending (its idempotency key with it) and committed, then the provider is asked, then the
answer recorded (`backend.services.refund_sender`). A crash between two steps leaves a
pending row that the job completes: never money out with no record, never twice. Against the
in-process fake and against localstripe (which ignores idempotency keys: the job finds the
lost refund by the key written in its metadata)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.adapters.clock import ManualClock
from backend.adapters.gateway import GatewayError, RefundResult
from backend.db.models import Order, Refund
from backend.jobs import run_due_jobs
from backend.services import views
from backend.services.refund_sender import RETRY_AFTER
from tests.integration.core.helpers import Harness, make_harness, stripe_test_gateway
from tests.integration.money.books import assert_books, deliver
from tests.integration.money.fake_gateway import FakeGateway
from tests.integration.money.fake_gateway import TestableGateway as Gateway
from tests.integration.money.localstripe_books import LocalStripeBooks
from tests.integration.money.scenarios import (
    JULIE,
    LEA,
    RIVIERE,
    cancel,
    hold,
    lines_of,
    order_for,
    pay,
)


class Flaky:
    """The gateway, with refunds whose answer is lost (`lose_after`: the provider made the
    refund, then the connection broke) or that never reach it (`fail_before`)."""

    def __init__(self, inner: Gateway) -> None:
        self.inner = inner
        self.lose_after = 0
        self.fail_before = 0
        self.asked = 0  # refunds that reached the provider

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def refund(self, *, payment_id: str, amount_cents: int, idempotency_key: str) -> RefundResult:
        if self.fail_before:
            self.fail_before -= 1
            raise GatewayError("APIConnectionError", retryable=True)
        result = self.inner.refund(
            payment_id=payment_id, amount_cents=amount_cents, idempotency_key=idempotency_key
        )
        self.asked += 1
        if self.lose_after:
            self.lose_after -= 1
            raise GatewayError("APIConnectionError", retryable=True)
        return result


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
    harness.gateway = Flaky(inner)  # type: ignore[assignment]
    return harness


def flaky(h: Harness) -> Flaky:
    gateway: Flaky = h.gateway  # type: ignore[assignment]
    return gateway


def refund_rows(h: Harness) -> list[tuple[str, int, int]]:
    return h.run(
        lambda db: [
            (r.status.value, r.amount_cents, r.tries)
            for r in db.scalars(select(Refund).order_by(Refund.id))
        ]
    )


def paid_week(h: Harness) -> int:
    hold(h, JULIE, LEA, [h.camp_session(RIVIERE, "9-12 ans", 2)])
    order_id = order_for(h, JULIE)
    assert deliver(h, pay(h, order_id))["outcome"] == "paid"
    return order_id


def refunded_at_provider(h: Harness) -> int:
    return sum(c.refunded_cents for c in flaky(h).inner.ledger().values())


def line_of(h: Harness, order_id: int) -> int:
    ((line_id, _),) = lines_of(h, order_id)
    return line_id


def test_a_refund_whose_answer_was_lost_is_found_by_the_job_not_made_twice(h: Harness) -> None:
    order_id = paid_week(h)
    flaky(h).lose_after = 1
    assert cancel(h, line_of(h, order_id))["refunded_cents"] == 9500

    # The provider made it; our record says it is pending, with the try counted.
    assert refunded_at_provider(h) == 9500
    assert refund_rows(h) == [("pending", 9500, 1)]
    # Too soon for the job: the sender that asked may still be waiting for its answer.
    assert run_due_jobs(h.factory, **h.deps)["refunds"]["sent"] == 0
    h.clock.advance(RETRY_AFTER + timedelta(minutes=1))
    assert run_due_jobs(h.factory, **h.deps)["refunds"] == {"sent": 1, "failed": 0, "pending": 0}

    assert refund_rows(h) == [("succeeded", 9500, 2)]
    assert refunded_at_provider(h) == 9500 and flaky(h).asked == 1  # found, not made again
    assert_books(h, flaky(h).inner.ledger())


def test_a_refund_that_never_reached_the_provider_is_made_by_the_job(h: Harness) -> None:
    order_id = paid_week(h)
    flaky(h).fail_before = 1
    cancel(h, line_of(h, order_id))
    assert refunded_at_provider(h) == 0
    assert refund_rows(h) == [("pending", 9500, 1)]  # recorded before anything went out

    h.clock.advance(RETRY_AFTER + timedelta(minutes=1))
    assert run_due_jobs(h.factory, **h.deps)["refunds"]["sent"] == 1
    assert refund_rows(h) == [("succeeded", 9500, 2)]
    assert refunded_at_provider(h) == 9500 and flaky(h).asked == 1
    assert_books(h, flaky(h).inner.ledger())


def test_a_refund_the_provider_never_answers_is_left_to_staff(h: Harness) -> None:
    order_id = paid_week(h)
    flaky(h).fail_before = 10
    cancel(h, line_of(h, order_id))
    for _ in range(10):
        h.clock.advance(RETRY_AFTER + timedelta(minutes=1))
        run_due_jobs(h.factory, **h.deps)
    (row,) = refund_rows(h)
    assert row[0] == "failed" and refunded_at_provider(h) == 0
    view = h.run(lambda db: views.order_dict(db, db.get(Order, order_id)))  # type: ignore[arg-type]
    assert view["refund_failed_cents"] == 9500
