"""The money scenarios once through a real localstripe process (the Stripe adapter, unchanged):
the contract that keeps the in-process fake (`fake_gateway.FakeGateway`) honest. Each scenario
plays the same moves and checks the same books as `test_scenarios.py`."""

from __future__ import annotations

import functools
from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session, sessionmaker

from backend.adapters.clock import ManualClock
from tests.integration.core.helpers import Harness, make_harness, stripe_test_gateway
from tests.integration.money import scenarios
from tests.integration.money.localstripe_books import LocalStripeBooks

SCENARIOS: dict[str, Callable[[Harness], None]] = {
    "both_weeks_cancelled": scenarios.both_weeks_cancelled_after_two_installments,
    "payment_after_staff_cancellation": (
        scenarios.payment_after_a_staff_cancellation_confirms_the_other_lines
    ),
    "two_payments_at_once": scenarios.two_payments_for_one_installment_at_once,
    "two_payments_reversed": functools.partial(
        scenarios.two_payments_for_one_installment_in_either_order, reverse=True
    ),
    "late_payment_same_week": scenarios.late_payment_never_registers_a_child_twice,
    "late_payment_two_parks": scenarios.late_payment_never_gives_a_child_two_parks_the_same_week,
    "late_payment_partly_kept": scenarios.late_payment_confirms_what_it_can_and_refunds_the_rest,
    "two_checkouts_one_key": scenarios.two_checkouts_with_one_key_at_once,
}


@pytest.fixture
def h(session_factory: sessionmaker[Session], clock: ManualClock) -> Harness:
    harness = make_harness(session_factory, clock)
    harness.gateway = LocalStripeBooks(stripe_test_gateway(harness.settings))  # type: ignore[assignment]
    return harness


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenario_through_localstripe(h: Harness, name: str) -> None:
    SCENARIOS[name](h)
