"""One message for several children: each child's own weeks and options; « c'est tout » at
the next-step question; « aucune » at the question about one option."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.actions import parsing
from bot.actions.reading.per_child import per_child
from bot.actions.reading.stopping import says_done

WEEKS = [
    parsing.Week(
        n, date(2027, 6, 28) + timedelta(weeks=n - 1), date(2027, 7, 2) + timedelta(weeks=n - 1)
    )
    for n in range(1, 9)
]
KIDS = [(1, "Léa"), (2, "Thomas")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Léa les semaines 1 et 2 avec le service de garde, Thomas la semaine 6 sans options",
            {1: {"weeks": [1, 2], "options": {"garde": None}}, 2: {"weeks": [6], "options": {}}},
        ),
        (
            "thomas semaines 3 a 5 pis lea juste la semaine 7, les deux avec le velo",
            {2: {"weeks": [3, 4, 5]}, 1: {"weeks": [7]}},
        ),
        (
            "lea les 2 premieres semaines et thomas la derniere semaine",
            {1: {"weeks": [1, 2]}, 2: {"weeks": [8]}},
        ),
        (
            "lea garde seulement pis thomas sans rien",
            {1: {"options": {"garde": None}}, 2: {"options": {}}},
        ),
    ],
)
def test_each_child_gets_the_words_after_their_name(
    text: str, expected: dict[int, dict[str, object]]
) -> None:
    assert per_child(text, KIDS, WEEKS) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Léa et Thomas semaines 2 à 4 avec garde",  # one set for both
        "Thomas semaine 3",  # one child named
        "léa semaine 2 et thomas aussi",  # Thomas says no week of his own
        "léa niveau 4 pis thomas niveau 1",  # levels are read elsewhere
    ],
)
def test_one_set_for_everyone_is_not_split(text: str) -> None:
    assert per_child(text, KIDS, WEEKS) == {}


@pytest.mark.parametrize(
    "text",
    ["ça sera tout", "C'est toute pour moi, merci!", "ok ce sera tout svp", "c tout"],
)
def test_nothing_else_at_the_next_step_question(text: str) -> None:
    assert says_done(text)


@pytest.mark.parametrize(
    "text", ["non", "oui", "c'est beau", "merci", "tout l'été", "pis Thomas aussi", ""]
)
def test_other_answers_at_the_next_step_question_are_not_the_end(text: str) -> None:
    assert not says_done(text)


@pytest.mark.parametrize(
    ("text", "every"),
    [
        ("aucune", True),
        ("ni l'une ni l'autre svp", True),
        ("non, aucune option", True),
        ("non", False),
        ("non merci", False),
        ("pas de garde mais le vélo oui", False),
    ],
)
def test_an_answer_about_one_option_may_turn_down_all(text: str, every: bool) -> None:
    assert parsing.refuses_every_option(text) is every
