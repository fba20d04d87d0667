"""The cancellation rule, to the cent, without a database: refunds follow the allocation."""

from __future__ import annotations

from datetime import date

import pytest

from backend.domain.refunds import (
    FULL_REFUND,
    Capture,
    RefundPolicy,
    Upcoming,
    cancellation_plan,
    kept_fee_cents,
    parent_may_cancel,
)
from backend.services.refunds import refund_policy
from backend.settings import Settings


def test_two_installments_refund_the_paid_share_and_cut_the_due_one() -> None:
    # Camp week 95 $ (9 500) in an order of 230 $ paid in two installments of 115 $; the first
    # paid 47,50 $ for it. Cancelling it refunds that and takes 47,50 $ off the second.
    plan = cancellation_plan(9500, [Capture(10, 4750, 0)], [Upcoming(11, 11500)])
    assert plan.refunds == {10: 4750} and plan.reductions == {11: 4750}
    assert plan.refund_cents == 4750 and plan.kept_cents == 0


def test_both_weeks_cancelled_after_both_installments_give_back_everything() -> None:
    # Two 95 $ weeks, two installments. Week 3 left after the first (47,50 $ back, second cut
    # to 47,50 $); the second then paid 47,50 $ for week 2 alone. Cancelling week 2:
    plan = cancellation_plan(9500, [Capture(10, 4750, 0), Capture(11, 4750, 0)], [])
    assert plan.refunds == {10: 4750, 11: 4750} and plan.reductions == {}


def test_nothing_paid_yet_cuts_every_installment_to_come_in_proportion() -> None:
    # Deferred season: nothing captured; 95 $ leaves an order of 190 $ due in 95 $ + 95 $.
    plan = cancellation_plan(9500, [], [Upcoming(10, 9500), Upcoming(11, 9500)])
    assert plan.refunds == {} and plan.reductions == {10: 4750, 11: 4750}


def test_what_was_already_given_back_is_not_given_twice() -> None:
    plan = cancellation_plan(9500, [Capture(10, 4750, 4750)], [Upcoming(11, 4750)])
    assert plan.refunds == {10: 0} and plan.reductions == {11: 4750}


def test_the_fee_is_kept_from_the_latest_capture_and_never_more_than_was_paid() -> None:
    policy = RefundPolicy(fee_cents=1500)
    plan = cancellation_plan(
        9500, [Capture(10, 4750, 0), Capture(11, 4750, 0)], [], policy, days_before_start=30
    )
    assert plan.refunds == {10: 4750, 11: 3250} and plan.kept_cents == 1500
    small = cancellation_plan(9500, [Capture(10, 1000, 0)], [Upcoming(11, 8500)], policy, 30)
    assert small.refunds == {10: 0} and small.kept_cents == 1000
    assert small.reductions == {11: 8500}  # what is still owed is cancelled all the same


def test_within_the_refund_deadline_everything_paid_is_kept() -> None:
    policy = RefundPolicy(fee_cents=1500, deadline_days=7)
    assert kept_fee_cents(4750, policy, days_before_start=7) == 1500
    assert kept_fee_cents(4750, policy, days_before_start=6) == 4750
    assert kept_fee_cents(4750, policy, days_before_start=-2) == 4750
    # No deadline: refunded (less the fee) whenever; a line nobody cancelled keeps nothing.
    assert kept_fee_cents(4750, RefundPolicy(fee_cents=1500), days_before_start=-2) == 1500
    assert kept_fee_cents(4750, FULL_REFUND, days_before_start=0) == 0


def test_a_parent_cancels_only_before_the_first_day() -> None:
    start = date(2027, 7, 5)
    assert parent_may_cancel(date(2027, 7, 4), start)
    assert not parent_may_cancel(start, start)
    assert not parent_may_cancel(date(2027, 7, 6), start)


def test_the_city_sets_its_policy_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CANCELLATION_FEE_CENTS", raising=False)
    monkeypatch.delenv("REFUND_DEADLINE_DAYS", raising=False)
    assert refund_policy(Settings.from_env()) == RefundPolicy(fee_cents=0, deadline_days=None)
    monkeypatch.setenv("CANCELLATION_FEE_CENTS", "1500")
    monkeypatch.setenv("REFUND_DEADLINE_DAYS", "7")
    assert refund_policy(Settings.from_env()) == RefundPolicy(fee_cents=1500, deadline_days=7)
