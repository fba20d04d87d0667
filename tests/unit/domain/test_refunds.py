"""The cancellation rule, to the cent, without a database: refunds follow the allocation."""

from __future__ import annotations

from backend.domain.refunds import Capture, Upcoming, cancellation_plan


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
