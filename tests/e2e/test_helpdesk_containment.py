"""The help desk's containment set (tests/e2e/helpdesk/questions/*.yml, every topic) against
the running stack: at least 90 % of the questions get the right first reply.
`python -m tests.e2e.helpdesk.report` prints the same report on its own."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from stack import Stack

from tests.e2e.helpdesk.containment import REQUIRED_RATE, load_entries, play_all, summary

pytestmark = pytest.mark.e2e


def test_nine_in_ten_help_desk_questions_get_the_right_first_reply(
    stack: Stack, database: Engine
) -> None:
    results = play_all(load_entries(), stack.rasa_url, stack.backend_url, database)
    report = summary(results)
    print(report)
    assert sum(r.passed for r in results) / len(results) >= REQUIRED_RATE, report
