"""The money scenarios against the in-process fake gateway, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from backend.adapters.clock import ManualClock
from tests.integration.core.helpers import Harness, make_harness
from tests.integration.money import scenarios
from tests.integration.money.fake_gateway import FakeGateway


@pytest.fixture
def h(session_factory: sessionmaker[Session], clock: ManualClock) -> Harness:
    harness = make_harness(session_factory, clock)
    harness.gateway = FakeGateway()  # type: ignore[assignment]
    return harness


def test_both_weeks_cancelled_after_two_installments_give_everything_back(h: Harness) -> None:
    scenarios.both_weeks_cancelled_after_two_installments(h)


def test_a_payment_after_a_staff_cancellation_keeps_the_other_lines(h: Harness) -> None:
    scenarios.payment_after_a_staff_cancellation_confirms_the_other_lines(h)


def test_two_payments_for_one_installment_at_once_keep_one(h: Harness) -> None:
    scenarios.two_payments_for_one_installment_at_once(h)


@pytest.mark.parametrize("reverse", [False, True], ids=["in_order", "reversed"])
def test_two_payments_for_one_installment_in_either_order_keep_one(
    h: Harness, reverse: bool
) -> None:
    scenarios.two_payments_for_one_installment_in_either_order(h, reverse=reverse)


def test_a_late_payment_never_registers_a_child_twice(h: Harness) -> None:
    scenarios.late_payment_never_registers_a_child_twice(h)


def test_a_late_payment_never_gives_a_child_two_parks_the_same_week(h: Harness) -> None:
    scenarios.late_payment_never_gives_a_child_two_parks_the_same_week(h)


def test_a_late_payment_confirms_what_it_can_and_refunds_the_rest(h: Harness) -> None:
    scenarios.late_payment_confirms_what_it_can_and_refunds_the_rest(h)


def test_two_checkouts_with_one_key_at_once_give_one_order(h: Harness) -> None:
    scenarios.two_checkouts_with_one_key_at_once(h)
