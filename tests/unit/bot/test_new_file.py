"""Reading a new parent's answers: courriel, name, address, children with birth dates."""

from __future__ import annotations

from datetime import date

import pytest

from bot.actions.reading.new_file import (
    NewChild,
    parse_address,
    parse_children,
    parse_email,
    parse_person_name,
    plausible_birth_date,
    says_no_email,
)


@pytest.mark.parametrize(
    ("text", "children"),
    [
        (
            "Zoé 2 mars 2018, Félix 20 novembre 2020",
            [("Zoé", date(2018, 3, 2)), ("Félix", date(2020, 11, 20))],
        ),
        (
            "zoe 2018-03-02 et felix 20/11/2020",
            [("Zoe", date(2018, 3, 2)), ("Felix", date(2020, 11, 20))],
        ),
        ("Rosalie née le 1er juin 2019", [("Rosalie", date(2019, 6, 1))]),
    ],
)
def test_children_with_their_birth_dates(text: str, children: list[tuple[str, date]]) -> None:
    assert parse_children(text) == [NewChild(n, d) for n, d in children]


def test_a_child_without_a_date_or_an_impossible_one() -> None:
    assert parse_children("Zoé et Félix") is None
    assert parse_children("Léo 31 février 2019") == [NewChild("Léo", None)]
    assert not plausible_birth_date(date(1990, 1, 1), date(2027, 4, 20))
    assert not plausible_birth_date(date(2028, 1, 1), date(2027, 4, 20))


def test_names_addresses_courriels() -> None:
    assert parse_person_name("je m'appelle Sophie Gagnon-Roy") == ("Sophie", "Gagnon-Roy")
    assert parse_person_name("Sophie") is None and parse_person_name("Sophie 123") is None
    assert parse_address("45 rue des Pins, Val-Fleuri") == "45 rue des Pins, Val-Fleuri"
    assert parse_address("rue des Pins") is None
    assert parse_email("c'est Sophie.G@Example.com merci") == "sophie.g@example.com"
    assert parse_email("sophie at example") is None
    assert says_no_email("Non merci") and says_no_email("pas de courriel")
    assert not says_no_email("sophie@example.com")
