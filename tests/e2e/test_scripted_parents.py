"""The scripted parents (tests/e2e/parents/*.yml) against the running stack: at least 90 % of
them (27 of 30) must end with the expected backend state. Each failure is printed with its
transcript. `python -m tests.e2e.scripted_parents_report` prints the same report on its own."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from stack import Stack

from tests.e2e.scripted_parents import REQUIRED_RATE, load_scripts, play_all, summary

pytestmark = pytest.mark.e2e


def test_scripts_are_many_and_named_once() -> None:
    names = [s.name for s in load_scripts()]
    assert len(names) >= 32
    assert len(set(names)) == len(names)


def test_nine_in_ten_scripted_parents_end_with_the_right_order(
    stack: Stack, database: Engine
) -> None:
    outcomes = play_all(load_scripts(), stack.rasa_url, stack.backend_url, database)
    report = summary(outcomes)
    print(report)
    passed = sum(o.passed for o in outcomes)
    assert passed / len(outcomes) >= REQUIRED_RATE, report
