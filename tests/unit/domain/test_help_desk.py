"""When a person answers the help desk line, and what a callback request may say."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.domain.callbacks import summary
from backend.domain.errors import RegistrationError
from backend.domain.help_desk import help_desk_open, next_opening, parse_hours
from backend.domain.roles import Action, may

WEEK = parse_hours("1-5 08:30-16:30; 6 09:00-12:00")


def test_open_on_weekdays_within_hours_only() -> None:
    assert help_desk_open(datetime(2027, 4, 20, 8, 30), WEEK)  # Tuesday, at opening
    assert not help_desk_open(datetime(2027, 4, 20, 16, 30), WEEK)  # closing time
    assert not help_desk_open(datetime(2027, 4, 20, 19, 0), WEEK)  # registration night
    assert help_desk_open(datetime(2027, 4, 24, 10, 0), WEEK)  # Saturday morning
    assert not help_desk_open(datetime(2027, 4, 25, 10, 0), WEEK)  # Sunday


def test_next_opening() -> None:
    assert next_opening(datetime(2027, 4, 20, 19, 0), WEEK) == datetime(2027, 4, 21, 8, 30)
    assert next_opening(datetime(2027, 4, 24, 13, 0), WEEK) == datetime(2027, 4, 26, 8, 30)
    assert next_opening(datetime(2027, 4, 20, 6, 0), WEEK) == datetime(2027, 4, 20, 8, 30)
    assert next_opening(datetime(2027, 4, 20, 10, 0), WEEK) == datetime(2027, 4, 20, 10, 0)
    assert next_opening(datetime(2027, 4, 20, 10, 0), {}) is None


@given(st.datetimes(min_value=datetime(2027, 1, 1), max_value=datetime(2028, 1, 1)))
def test_the_next_opening_is_open_and_nothing_before_it_is(now: datetime) -> None:
    opening = next_opening(now, WEEK)
    assert opening is not None and opening >= now and help_desk_open(opening, WEEK)
    assert (opening == now) == help_desk_open(now, WEEK)


@pytest.mark.parametrize(
    "text", ["lundi 8-16", "1-5 16:30-08:30", "5-1 08:00-12:00", "8 09:00-10:00"]
)
def test_unreadable_hours_stop_the_backend(text: str) -> None:
    with pytest.raises(ValueError):
        parse_hours(text)


def test_a_summary_is_chosen_from_lists_never_free_text() -> None:
    assert summary("payment", "checkout", " Léa ") == ("payment", "checkout", "Léa")
    assert summary("other", "none", "") == ("other", "none", None)
    for topic, step, name in [
        ("mon fils a le diabete", "none", None),
        ("other", "whatever", None),
        ("other", "none", "NAS 123 456 789"),
    ]:
        with pytest.raises(RegistrationError) as refused:
            summary(topic, step, name)
        assert refused.value.code == "invalid_request"


def test_callbacks_are_for_the_help_desk_and_coordinators_only() -> None:
    assert may("help_desk", Action.CALLBACKS) and may("coordinator", Action.CALLBACKS)
    assert not may("animator", Action.CALLBACKS)
