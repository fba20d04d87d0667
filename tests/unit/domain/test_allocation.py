"""The allocation of a captured payment to lines, to the cent, without a database."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.domain.allocation import LineAccount, OverCapture, allocate_capture, split


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
def test_split_is_exact(amount: int, weights: list[int], expected: list[int]) -> None:
    parts = split(amount, weights)
    assert parts == expected and sum(parts) == amount


def test_a_line_cancelled_between_installments_takes_nothing_of_the_second() -> None:
    # Two 95 $ weeks in two installments of 95 $: the first paid 47,50 $ for each; week 3 then
    # left and the second installment was cut to 47,50 $, all of it owed by week 2.
    shares = allocate_capture(4750, [LineAccount(2, 9500, 4750)])
    assert shares == {2: 4750}


def test_the_second_installment_follows_what_each_line_still_owes() -> None:
    # 135 $ (week + garde) and 95 $: 115 $ now, 115 $ later.
    first = allocate_capture(11500, [LineAccount(1, 13500, 0), LineAccount(2, 9500, 0)])
    assert first == {1: 6750, 2: 4750}
    second = allocate_capture(
        11500, [LineAccount(1, 13500, first[1]), LineAccount(2, 9500, first[2])]
    )
    assert second == {1: 6750, 2: 4750}


def test_a_capture_above_what_is_owed_is_refused() -> None:
    with pytest.raises(OverCapture):
        allocate_capture(9501, [LineAccount(1, 9500, 0)])


@settings(max_examples=200, deadline=None, database=None, derandomize=True)
@given(
    prices=st.lists(st.integers(0, 60_000), min_size=1, max_size=5),
    paid_ratio=st.lists(st.floats(0, 1), min_size=5, max_size=5),
    take=st.floats(0, 1),
)
def test_no_line_ever_receives_more_than_it_owes(
    prices: list[int], paid_ratio: list[float], take: float
) -> None:
    lines = [LineAccount(i, price, int(price * paid_ratio[i])) for i, price in enumerate(prices)]
    owed = sum(line.owed_cents for line in lines)
    amount = int(owed * take)
    shares = allocate_capture(amount, lines)
    assert sum(shares.values()) == amount
    for line in lines:
        assert 0 <= shares[line.id] <= line.owed_cents
