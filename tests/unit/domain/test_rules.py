"""The registration rules on their own: no database, no HTTP."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from backend.domain import holds, pricing, waitlist
from backend.domain.eligibility import age_on, check_age, reference_date
from backend.domain.errors import RegistrationError
from backend.domain.installments import PaidLine, add_one_month, terms
from backend.domain.season import Window
from backend.domain.states import (
    IllegalTransition,
    InstallmentStatus,
    OrderStatus,
    check_installment_transition,
    check_order_transition,
    order_status_after_payment,
)

# ------------------------------------------------------------------ eligibility


def test_age_is_taken_on_30_september_of_the_season_year() -> None:
    assert reference_date(2027) == date(2027, 9, 30)
    # Léa (2018-05-14) is 9 on 30 Sept 2027; Thomas (2020-04-03) is 7; Noah (2020-07-01) is 7.
    assert age_on(date(2018, 5, 14), reference_date(2027)) == 9
    assert age_on(date(2020, 4, 3), reference_date(2027)) == 7
    # Emma (2016-09-10) turns 11 before the reference date.
    assert age_on(date(2016, 9, 10), reference_date(2027)) == 11


def test_birthday_on_the_reference_date_counts_and_the_day_after_does_not() -> None:
    assert age_on(date(2020, 9, 30), date(2027, 9, 30)) == 7
    assert age_on(date(2020, 10, 1), date(2027, 9, 30)) == 6
    assert age_on(date(2020, 2, 29), date(2027, 2, 28)) == 6
    assert age_on(date(2020, 2, 29), date(2027, 3, 1)) == 7


@pytest.mark.parametrize(
    ("birth", "eligible", "age"),
    [
        (date(2020, 9, 30), True, 7),  # 7 exactly: lower bound inclusive
        (date(2020, 10, 1), False, 6),  # turns 7 after the reference date
        (date(2018, 10, 1), True, 8),  # upper bound inclusive
        (date(2018, 9, 30), False, 9),
    ],
)
def test_eligibility_bounds_are_inclusive(birth: date, eligible: bool, age: int) -> None:
    result = check_age(birth, 2027, 7, 8)
    assert (result.eligible, result.age) == (eligible, age)
    assert result.reference_date == date(2027, 9, 30)


# ------------------------------------------------------------------ prices


def test_resident_and_nonresident_prices() -> None:
    assert pricing.session_price(
        resident=True, price_resident_cents=9500, price_nonresident_cents=14000
    ) == 9500
    assert pricing.session_price(
        resident=False, price_resident_cents=9500, price_nonresident_cents=14000
    ) == 14000


# ------------------------------------------------------------------ installments

CAMP_W1 = date(2027, 6, 28)


def camp(price: int, starts: date = CAMP_W1) -> PaidLine:
    return PaidLine(is_day_camp=True, price_cents=price, starts_on=starts)


def test_two_installments_split_with_the_odd_cent_first_and_one_month_later() -> None:
    t = terms([camp(13500), camp(13500), camp(13501)], date(2027, 4, 20))
    assert t.allowed == (1, 2)
    assert t.refused_reason is None
    assert [(d.seq, d.due_on, d.amount_cents) for d in t.plans[2]] == [
        (1, date(2027, 4, 20), 20251),
        (2, date(2027, 5, 20), 20250),
    ]
    assert [(d.due_on, d.amount_cents) for d in t.plans[1]] == [(date(2027, 4, 20), 40501)]


def test_month_end_is_clamped() -> None:
    assert add_one_month(date(2027, 1, 31)) == date(2027, 2, 28)
    assert add_one_month(date(2028, 1, 31)) == date(2028, 2, 29)
    assert add_one_month(date(2027, 3, 31)) == date(2027, 4, 30)
    assert add_one_month(date(2027, 12, 15)) == date(2028, 1, 15)


def test_second_installment_moves_to_the_day_before_the_first_week() -> None:
    t = terms([camp(9500), camp(9500)], date(2027, 6, 1))
    # 1 July would be after camp starts (28 June): due 27 June instead.
    assert [(d.due_on, d.amount_cents) for d in t.plans[2]] == [
        (date(2027, 6, 1), 9500),
        (date(2027, 6, 27), 9500),
    ]
    # Exactly one month later falls on the first day of camp: moved to the day before too.
    t = terms([camp(20000)], date(2027, 5, 28))
    assert t.plans[2][1].due_on == date(2027, 6, 27)


def test_too_close_to_start_refuses_two_installments() -> None:
    t = terms([camp(20000)], date(2027, 6, 27))
    assert t.allowed == (1,)
    assert t.refused_reason == "too_close_to_start"
    assert 2 not in t.plans
    assert terms([camp(20000)], date(2027, 6, 26)).allowed == (1, 2)


def test_refusals_not_day_camp_and_below_minimum() -> None:
    swim = PaidLine(is_day_camp=False, price_cents=8500, starts_on=date(2027, 7, 3))
    t = terms([camp(9500), swim], date(2027, 4, 20))
    assert (t.allowed, t.refused_reason) == ((1,), "not_day_camp")
    t = terms([camp(9999)], date(2027, 4, 20))
    assert (t.allowed, t.refused_reason) == ((1,), "below_minimum")
    assert terms([camp(10000)], date(2027, 4, 20)).allowed == (1, 2)
    assert terms([], date(2027, 4, 20)).allowed == (1,)


# ------------------------------------------------------------------ holds and offers


def test_hold_expires_after_20_minutes_exactly() -> None:
    now = datetime(2027, 4, 13, 23, 0)
    until = holds.hold_expires_at(now)
    assert until == datetime(2027, 4, 13, 23, 20)


def test_offer_deadline_48_hours_and_extension_never_shortens() -> None:
    now = datetime(2027, 5, 1, 12, 0)
    assert holds.offer_expires_at(now) == datetime(2027, 5, 3, 12, 0)
    assert holds.offer_expires_at(now, 24) == datetime(2027, 5, 2, 12, 0)
    later = datetime(2027, 5, 1, 12, 30)
    assert holds.extended(datetime(2027, 5, 1, 12, 20), later) == later
    assert holds.extended(datetime(2027, 5, 3, 12, 0), later) == datetime(2027, 5, 3, 12, 0)


def test_waitlist_positions_are_fifo_and_without_gap_after_departures() -> None:
    t = datetime(2027, 4, 13, 23, 0)
    entries = [
        waitlist.Entry(10, t),
        waitlist.Entry(7, t.replace(minute=5)),
        waitlist.Entry(12, t),
        waitlist.Entry(3, t.replace(minute=1)),
    ]
    assert waitlist.positions(entries) == {10: 1, 12: 2, 3: 3, 7: 4}
    remaining = [e for e in entries if e.id != 10]
    assert sorted(waitlist.positions(remaining).values()) == [1, 2, 3]
    assert waitlist.positions(remaining)[12] == 1


# ------------------------------------------------------------------ season window


def test_residents_open_first() -> None:
    w = Window(datetime(2027, 4, 13, 23), datetime(2027, 4, 20, 22), datetime(2027, 6, 21, 4))
    at = datetime(2027, 4, 15, 12)
    assert w.is_open(at, resident=True)
    assert not w.is_open(at, resident=False)
    assert w.opens_at(resident=False) == datetime(2027, 4, 20, 22)
    assert w.is_open(datetime(2027, 4, 20, 22), resident=False)
    assert not w.is_open(datetime(2027, 4, 13, 22, 59), resident=True)
    assert not w.is_open(datetime(2027, 6, 21, 4), resident=True)


# ------------------------------------------------------------------ state machines


def test_order_transitions() -> None:
    check_order_transition(OrderStatus.AWAITING_PAYMENT, OrderStatus.PARTIALLY_PAID)
    check_order_transition(OrderStatus.PARTIALLY_PAID, OrderStatus.PAID)
    check_order_transition(OrderStatus.EXPIRED, OrderStatus.REFUNDED)
    check_order_transition(OrderStatus.DEFERRED, OrderStatus.AWAITING_PAYMENT)
    with pytest.raises(IllegalTransition):
        check_order_transition(OrderStatus.REFUNDED, OrderStatus.PAID)
    with pytest.raises(IllegalTransition):
        check_order_transition(OrderStatus.PAID, OrderStatus.AWAITING_PAYMENT)


def test_installment_transitions() -> None:
    check_installment_transition(InstallmentStatus.SCHEDULED, InstallmentStatus.PAID)
    check_installment_transition(InstallmentStatus.FAILED, InstallmentStatus.PAID)
    with pytest.raises(IllegalTransition):
        check_installment_transition(InstallmentStatus.SCHEDULED, InstallmentStatus.REFUNDED)
    with pytest.raises(IllegalTransition):
        check_installment_transition(InstallmentStatus.REFUNDED, InstallmentStatus.PAID)
    paid, sched = InstallmentStatus.PAID, InstallmentStatus.SCHEDULED
    assert order_status_after_payment([paid, sched]) == OrderStatus.PARTIALLY_PAID
    assert order_status_after_payment([paid, paid]) == OrderStatus.PAID
    assert order_status_after_payment([sched]) == OrderStatus.AWAITING_PAYMENT


def test_errors_carry_a_code_and_facts_but_no_sentence() -> None:
    err = RegistrationError("not_eligible", age=6, min_age=7, max_age=8)
    assert err.code == "not_eligible"
    assert err.extra == {"age": 6, "min_age": 7, "max_age": 8}
    assert err.http_status == 409
    with pytest.raises(ValueError):
        RegistrationError("no_such_code")
