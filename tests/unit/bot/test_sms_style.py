"""Answers as parents type them on a phone: no accents, no capitals, abbreviations, typos."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.actions import parsing as p

WEEKS = [
    p.Week(n, date(2027, 6, 28) + timedelta(weeks=n - 1), date(2027, 7, 2) + timedelta(weeks=n - 1))
    for n in range(1, 9)
]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("ouin", p.AnswerKind.YES),
        ("ouin ok", p.AnswerKind.YES),
        ("wi", p.AnswerKind.YES),
        ("ok go", p.AnswerKind.YES),
        ("okok", p.AnswerKind.YES),
        ("c bon", p.AnswerKind.YES),
        ("c beau merci", p.AnswerKind.YES),
        ("envoye fort", p.AnswerKind.YES),
        ("j'pense que oui", p.AnswerKind.YES),
        ("Ok parfait, merci!", p.AnswerKind.YES),
        ("oui svp", p.AnswerKind.YES),
        ("yes sir", p.AnswerKind.YES),
        ("pas d'probleme", p.AnswerKind.YES),
        ("PAS DE TROUBLE", p.AnswerKind.YES),
        ("pantoute", p.AnswerKind.NO),
        ("pas pantoute", p.AnswerKind.NO),
        ("non!!!", p.AnswerKind.NO),
        ("nenon", p.AnswerKind.NO),
        ("absolument pas", p.AnswerKind.NO),
        ("certainement pas", p.AnswerKind.NO),
        ("pas du tout", p.AnswerKind.NO),
        ("laisse fair", p.AnswerKind.UNKNOWN),  # a typo we do not guess into a no
        ("oui non", p.AnswerKind.UNKNOWN),
        ("y a tu moyen de changer de parc", p.AnswerKind.QUESTION),
        ("c'est tu possible de payer plus tard", p.AnswerKind.QUESTION),
        ("ca coute combien", p.AnswerKind.QUESTION),
        ("pk", p.AnswerKind.UNKNOWN),
    ],
)
def test_yes_no_by_texto(text: str, kind: p.AnswerKind) -> None:
    assert p.read_answer(text).kind is kind


@pytest.mark.parametrize(
    ("text", "current", "after"),
    [
        ("tt l'ete sauf la 3", [], [1, 2, 4, 5, 6, 7, 8]),
        ("tout lete sauf la 3 pis la 5", [], [1, 2, 4, 6, 7, 8]),
        ("enleve la 3 svp", [2, 3, 4], [2, 4]),
        # no comma, no "plutôt": a removal of 2 and 3, never a change the parent did not name
        ("non pas la 2 la 3", [2], []),
        ("non pas la 2, c la 3", [2], [3]),
        ("remplace 4 par 6", [4], [6]),
        ("change la sem 2 pour la sem 5", [2, 3], [3, 5]),
        ("la 7 en plus", [1], [1, 7]),
        ("sem 2-3-4", [], [2, 3, 4]),
        ("2 a 4", [], [2, 3, 4]),
        ("du 5 au 16 juil", [], [2, 3]),
        ("tout juillet svp", [], [2, 3, 4, 5]),
        ("ds le mois d'aout", [], [6, 7, 8]),
        ("les 3 1eres semaines", [], [1, 2, 3]),
        ("juste la derniere", [4], [8]),
    ],
)
def test_week_edits_by_texto(text: str, current: list[int], after: list[int]) -> None:
    reading = p.read_weeks(text, WEEKS, current)
    assert reading is not None
    assert reading.weeks_after == after


def test_no_la_2_la_3_without_a_comma_never_keeps_week_2_and_adds_nothing() -> None:
    reading = p.read_weeks("non pas la 2 la 3", WEEKS, [2, 3, 4])
    assert reading is not None
    assert reading.added == []
