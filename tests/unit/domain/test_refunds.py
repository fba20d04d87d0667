"""The cancellation rule, to the cent, without a database."""

from __future__ import annotations

import pytest

from backend.domain.refunds import OrderInstallment, OrderLine, allocate, cancellation_plan


@pytest.mark.parametrize(
    ("amount", "weights", "expected"),
    [
        (10000, [9500, 4000], [7037, 2963]),
        (6750, [9500, 4000], [4750, 2000]),
        (1, [9500, 9500], [1, 0]),  # the odd cent goes to the earlier line
        (9501, [9500, 9500], [4751, 4750]),
        (500, [0, 0], [250, 250]),
        (0, [9500, 4000], [0, 0]),
    ],
)
def test_allocate_is_exact(amount: int, weights: list[int], expected: list[int]) -> None:
    parts = allocate(amount, weights)
    assert parts == expected and sum(parts) == amount


def test_two_installments_refund_the_paid_share_and_cut_the_due_one() -> None:
    # Camp week 95 $ + garde 40 $ (13 500) and a second week 95 $ (9 500): 23 000 in two
    # installments of 11 500. Cancelling the second week after the first payment:
    lines = [OrderLine(1, 13500, True), OrderLine(2, 9500, True)]
    plan = cancellation_plan(
        2, lines, [OrderInstallment(10, 11500, paid=True), OrderInstallment(11, 11500, False)]
    )
    assert plan.refunds == {10: 4750} and plan.reductions == {11: 4750}
    assert plan.refund_cents == 4750


def test_a_second_cancellation_shares_the_due_installment_among_lines_still_registered() -> None:
    # After line 2 left, 6 750 is due for line 1 alone: cancelling line 1 removes all of it.
    lines = [OrderLine(1, 13500, True), OrderLine(2, 9500, False)]
    plan = cancellation_plan(
        1, lines, [OrderInstallment(10, 11500, paid=True), OrderInstallment(11, 6750, False)]
    )
    assert plan.refunds == {10: 6750} and plan.reductions == {11: 6750}


def test_unknown_line_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        cancellation_plan(9, [OrderLine(1, 100, True)], [])
