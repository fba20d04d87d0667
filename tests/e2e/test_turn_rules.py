"""The turn rules (tests/e2e/turn_rules.py) over every test story and every end-to-end
conversation of the session: each turn ends on the step's question or a closing, and no whole turn
repeats right after a miss. The conversation check runs after every other end-to-end test
(tests/e2e/conftest.py orders it last)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.e2e.conversation import RECORDED
from tests.e2e.turn_rules import Rules, story_violations, turn_violations

ROOT = Path(__file__).resolve().parents[2]
STORIES = yaml.safe_load((ROOT / "tests" / "bot" / "test_stories.yml").read_text(encoding="utf-8"))


def test_every_test_story_turn_ends_on_a_question_or_a_closing() -> None:
    rules = Rules.load()
    problems = [
        f"{story['story']}: {problem}"
        for story in STORIES["stories"]
        for problem in story_violations(rules, story)
    ]
    assert problems == []


def test_the_checker_sees_a_turn_that_asks_nothing() -> None:
    rules = Rules.load()
    asked = "Quelle taille de chandail pour Léa ? TP, P, M, G ou TG."
    removed = "C'est retiré : Léa — semaine 3."
    assert turn_violations(rules, [("lea au camp", [asked])]) == []
    assert len(turn_violations(rules, [("enleve la 3", [removed])])) == 1
    assert len(turn_violations(rules, [("xyz", [asked]), ("zyx", [asked])])) == 1


@pytest.mark.e2e
def test_every_end_to_end_turn_ends_on_a_question_or_a_closing() -> None:
    talked = [parent for parent in RECORDED if parent.turns]
    if not talked:
        pytest.skip("no end-to-end conversation ran in this session")
    rules = Rules.load()
    problems = [
        f"{parent.sender}: {problem}"
        for parent in talked
        for problem in turn_violations(rules, parent.turns)
    ]
    assert problems == [], "\n".join(problems)
