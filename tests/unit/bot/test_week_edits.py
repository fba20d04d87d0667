"""Week edits read against the demo city's 8 summer weeks (week 1 straddles June and July)."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import combinations

import pytest

from bot.actions import parsing as p

# Monday June 28 to Friday August 20, 2027, as the demo city's camp
WEEKS = [
    p.Week(n, date(2027, 6, 28) + timedelta(weeks=n - 1), date(2027, 7, 2) + timedelta(weeks=n - 1))
    for n in range(1, 9)
]
ALL = list(range(1, 9))
E = p.WeekEdit


def read(text: str, current: list[int] | tuple[int, ...] = ()) -> p.WeekReading:
    reading = p.read_weeks(text, WEEKS, current)
    assert reading is not None, text
    return reading


@pytest.mark.parametrize(
    ("text", "current", "after", "removed", "added"),
    [
        ("non pas la 2, la 3", [1, 2, 4], [1, 3, 4], [2], [3]),
        ("non, pas la 2 mais la 3", [2], [3], [2], [3]),
        ("pas la 2 plutôt la 3", [2, 5], [3, 5], [2], [3]),
        ("remplace la 4 par la 6", [1, 2, 4], [1, 2, 6], [4], [6]),
        ("Remplacez la semaine 4 par la semaine 6 svp", [4, 5], [5, 6], [4], [6]),
        ("change la 2 pour la 5", [1, 2, 3], [1, 3, 5], [2], [5]),
        ("changer la 2 pr la 5", [2], None, None, None),  # "pr" is not read: no replace
        ("la 5 au lieu de la 2", [2, 3], [3, 5], [2], [5]),
        ("la 5 a la place de la 2", [2, 3], [3, 5], [2], [5]),
        ("je prendrais la semaine du 19 juillet au lieu de la 3", [3], [4], [3], [4]),
        ("echange la 1 contre la 8", [1, 2], [2, 8], [1], [8]),
    ],
)
def test_replace_keeps_the_other_weeks(
    text: str,
    current: list[int],
    after: list[int] | None,
    removed: list[int] | None,
    added: list[int] | None,
) -> None:
    reading = read(text, current)
    if after is None:
        assert reading.kind is not E.REPLACE
        return
    assert reading.kind is E.REPLACE
    assert (reading.weeks_after, reading.removed, reading.added) == (after, removed, added)


@pytest.mark.parametrize(
    ("text", "current", "after"),
    [
        ("enlève la semaine 3", [2, 3, 4], [2, 4]),
        ("enleve la 3", [2, 3, 4], [2, 4]),
        ("pas la 3", [2, 3, 4], [2, 4]),
        ("sans la 3", [2, 3, 4], [2, 4]),
        ("retire la 3 pis la 4", [2, 3, 4], [2]),
        ("annule la semaine du 12 juillet", [2, 3, 4], [2, 4]),
        ("je veux plus la 3", [2, 3, 4], [2, 4]),
        ("enlève juillet", ALL, [1, 6, 7, 8]),
    ],
)
def test_remove(text: str, current: list[int], after: list[int]) -> None:
    reading = read(text, current)
    assert reading.kind is E.REMOVE
    assert reading.weeks_after == after
    assert reading.added == []


@pytest.mark.parametrize(
    ("text", "current", "after"),
    [
        ("ajoute la 7", [2, 3], [2, 3, 7]),
        ("la 7 aussi", [2, 3], [2, 3, 7]),
        ("rajoute la semaine 7 svp", [2], [2, 7]),
        ("ajoute la dernière semaine", [2], [2, 8]),
        ("ajoutez aussi tout août", [2], [2, 6, 7, 8]),
    ],
)
def test_add(text: str, current: list[int], after: list[int]) -> None:
    reading = read(text, current)
    assert reading.kind is E.ADD
    assert reading.weeks_after == after
    assert reading.removed == []


@pytest.mark.parametrize(
    ("text", "after"),
    [
        ("tout l'été sauf la semaine 3", [1, 2, 4, 5, 6, 7, 8]),
        ("tout lete sauf la 3", [1, 2, 4, 5, 6, 7, 8]),
        ("tout l'été", ALL),
        ("toutes les semaines", ALL),
        ("toutes", ALL),
        ("du 5 au 16 juillet", [2, 3]),
        ("du 5 juillet au 16 juillet", [2, 3]),
        ("entre le 5 et le 16 juillet", [2, 3]),
        ("du 30 juin au 8 juillet", [1, 2]),
        ("semaines 2 à 4", [2, 3, 4]),
        ("2-4", [2, 3, 4]),
        ("2,3,4", [2, 3, 4]),
        ("2 3 et 4", [2, 3, 4]),
        ("de la 2 à la 4", [2, 3, 4]),
        ("la semaine du 12 juillet", [3]),
        ("les 3 premières semaines", [1, 2, 3]),
        ("les trois premieres", [1, 2, 3]),
        ("les deux dernières", [7, 8]),
        ("les 2 dernieres semaines", [7, 8]),
        ("la dernière semaine", [8]),
        ("la derniere", [8]),
        ("la première", [1]),
        ("l'avant-dernière", [7]),
        ("tout juillet", [2, 3, 4, 5]),
        ("juillet au complet", [2, 3, 4, 5]),
        ("le mois de juillet", [2, 3, 4, 5]),
        ("en août", [6, 7, 8]),
        ("tout août", [6, 7, 8]),
        ("tout aout", [6, 7, 8]),
        ("en juin", [1]),
        ("juillet et août", [2, 3, 4, 5, 6, 7, 8]),
        ("tout l'été sauf juillet", [1, 6, 7, 8]),
        ("les 2 premières semaines d'août", [6, 7]),
        ("1", [1]),
        ("8", [8]),
        ("la 3e", [3]),
        ("semaines 2 à 5 mais pas la 4", [2, 3, 5]),
    ],
)
def test_the_whole_set(text: str, after: list[int]) -> None:
    reading = read(text, [1, 2])
    assert reading.kind is E.SET
    assert reading.weeks_after == after


def test_du_5_au_16_juillet_is_every_week_it_touches() -> None:
    reading = read("du 5 au 16 juillet")
    assert reading.weeks_after == [2, 3]
    (mention,) = reading.mentions
    assert mention.how == "dates"
    assert (mention.start, mention.end) == (date(2027, 7, 5), date(2027, 7, 16))
    assert reading.stated


def test_a_month_is_read_by_the_rule_and_said() -> None:
    reading = read("tout juillet")
    assert reading.weeks_after == [2, 3, 4, 5]  # week 1 has 3 weekdays in June
    assert [(m.how, m.month) for m in reading.mentions] == [("month", 7)]
    assert reading.stated
    assert [p.month_of_week(w) for w in WEEKS] == [6, 7, 7, 7, 7, 8, 8, 8]


def test_first_and_last_are_said_but_numbers_are_not() -> None:
    first = read("les 3 premières semaines")
    assert [(m.how, m.count) for m in first.mentions] == [("first", 3)]
    assert first.stated
    assert not read("semaines 2 à 4").stated


def test_a_compound_leaves_the_options_to_the_options_reader() -> None:
    text = "tout l'été sauf la semaine 3, garde seulement semaines 1 et 2"
    reading = read(text)
    assert reading.weeks_after == [1, 2, 4, 5, 6, 7, 8]
    assert reading.rest == "garde seulement semaines 1 et 2"
    assert p.parse_weeks(text, WEEKS) == [1, 2, 4, 5, 6, 7, 8]
    choice = p.parse_options(text, WEEKS)
    assert choice.wanted == {"garde": True}
    assert choice.weeks == {"garde": [1, 2]}
    alone = p.parse_options("garde seulement semaines 1 et 2", WEEKS)
    assert (alone.wanted, alone.weeks) == ({"garde": True}, {"garde": [1, 2]})


def test_garde_as_a_verb_keeps_weeks() -> None:
    assert read("je garde la 2 et la 4", [2, 3, 4]).weeks_after == [2, 4]
    assert p.parse_options("je garde la 2", WEEKS).empty
    assert p.parse_options("avec garde", WEEKS).wanted == {"garde": True}


def test_weeks_said_with_an_option_are_the_registration_weeks_too() -> None:
    reading = read("avec service de garde semaines 2 à 4")
    assert reading.weeks_after == [2, 3, 4]


@pytest.mark.parametrize(
    "text",
    [
        "oui",
        "natation niveau 3",
        "pas tout de suite",
        "semaine 12",
        "pas de problème",
        "merci",
        "le jeudi 20 mai",
        "du 1er au 15 mai",
        "en 2 versements svp",
    ],
)
def test_nothing_about_weeks(text: str) -> None:
    assert p.read_weeks(text, WEEKS, [2, 3]) is None


def test_numbers_that_count_something_else_are_not_weeks() -> None:
    assert p.read_weeks("camp pour ma fille de 7 ans", WEEKS) is None
    assert p.read_weeks("en 2 versements", WEEKS) is None
    assert read("camp 9-12 ans semaine 6").weeks_after == [6]


def test_a_bare_number_is_a_week_only_when_weeks_were_asked() -> None:
    assert read("1").weeks_after == [1]
    assert p.read_weeks("1", WEEKS, expect_weeks=False) is None


# ------------------------------------------------------------------ over the sets of weeks held

CURRENT_SETS = [list(c) for k in range(9) for c in combinations(ALL, k)]


@pytest.mark.parametrize("template", ["enlève la {n}", "pas la semaine {n}", "sans la {n}"])
def test_a_removal_never_adds_a_week(template: str) -> None:
    for current in CURRENT_SETS[::3]:
        for n in ALL:
            reading = read(template.format(n=n), current)
            if current:
                assert reading.weeks_after == sorted(set(current) - {n}), (current, n)
                assert reading.added == []
            assert n not in reading.weeks_after


@pytest.mark.parametrize(
    "template",
    [
        "remplace la {old} par la {new}",
        "non pas la {old}, la {new}",
        "la {new} au lieu de la {old}",
    ],
)
def test_a_replacement_keeps_every_other_week(template: str) -> None:
    for current in CURRENT_SETS[::7]:
        for old in ALL:
            for new in ALL:
                if old == new:
                    continue
                reading = read(template.format(old=old, new=new), current)
                assert reading.kind is E.REPLACE
                assert reading.weeks_after == sorted((set(current) - {old}) | {new})


@pytest.mark.parametrize(
    "text",
    [
        "tout l'été sauf la 3",
        "du 5 au 16 juillet",
        "tout juillet",
        "semaines 2 à 12",
        "ajoute la 9",
    ],
)
def test_the_result_is_always_within_the_season(text: str) -> None:
    for current in CURRENT_SETS[::5]:
        reading = p.read_weeks(text, WEEKS, current)
        if reading is not None:
            assert set(reading.weeks_after) <= set(ALL)
            assert set(reading.added).isdisjoint(current)
            assert set(reading.removed) <= set(current)


def test_parse_weeks_names_the_weeks_a_removal_points_at() -> None:
    # the cart looks the lines up by the weeks named
    assert p.parse_weeks("enlève la semaine 3 svp", WEEKS, expect_weeks=True) == [3]
    assert p.parse_weeks("retire la 2 pis la 4", WEEKS, expect_weeks=True) == [2, 4]
    assert p.parse_weeks("pas la semaine 3", WEEKS) == [1, 2, 4, 5, 6, 7, 8]
    assert p.parse_weeks("non pas la 2, la 3", WEEKS, expect_weeks=True) == [3]
