"""Facts said before identification: kept parsed (never the words), said back to the form."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from bot.actions import facts
from bot.actions.context import Context


def _sessions() -> list[dict[str, object]]:
    start = date(2027, 6, 28)
    return [
        {
            "number": n,
            "starts_on": (start + timedelta(weeks=n - 1)).isoformat(),
            "ends_on": (start + timedelta(weeks=n - 1, days=4)).isoformat(),
            "options": [
                {"code": "garde", "price_cents": 4000},
                {"code": "velo", "price_cents": 1500},
            ],
        }
        for n in range(1, 9)
    ]


CATALOG = Context(
    family={},
    catalog={
        "programs": [
            {
                "id": 1,
                "name": "Camp de jour",
                "category": "camp_de_jour",
                "groups": [
                    {"id": 11, "site_id": 1, "min_age": 9, "max_age": 12, "sessions": _sessions()},
                    {"id": 12, "site_id": 2, "min_age": 9, "max_age": 12, "sessions": _sessions()},
                ],
            },
            {
                "id": 2,
                "name": "Natation Junior",
                "category": "natation",
                "groups": [
                    {
                        "id": 21,
                        "site_id": 3,
                        "min_age": 5,
                        "max_age": 12,
                        "level": 3,
                        "sessions": _sessions()[:1],
                    },
                ],
            },
        ],
        "sites": [
            {"id": 1, "name": "Parc des Érables"},
            {"id": 2, "name": "Parc de la Rivière"},
            {"id": 3, "name": "Piscine municipale"},
        ],
    },
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "J'aimerais inscrire Léa au camp de jour au parc de la Rivière, semaines 2 à 4, "
            "avec service de garde",
            {
                "names": ["Léa"],
                "program": 1,
                "site": 2,
                "weeks": [2, 3, 4],
                "options": {"garde": True},
            },
        ),
        ("Thomas et Léa au camp en juillet", {"names": ["Thomas", "Léa"], "program": 1}),
        ("inscrire lea a la natation niveau 3", {"names": ["Lea"], "program": 2, "level": 3}),
        (
            "mes deux enfants, pas de transport à vélo",
            {"which": "both", "options": {"velo": False}},
        ),
        ("ma plus vieille, taille M", {"which": "oldest", "tshirt": "M"}),
        ("Bonjour Merci Allo", {}),
        # a first name in lowercase opening a clause, or after « pis »
        ("lea au camp de jour", {"names": ["Lea"], "program": 1}),
        ("allo, emma camp de jour", {"names": ["Emma"], "program": 1}),
        (
            "lea niveau 3 pis thomas niveau 2",
            {"names": ["Lea", "Thomas"], "level": 3, "levels": {"Lea": 3, "Thomas": 2}},
        ),
        ("camp de jour, mettez-lui un M", {"program": 1, "tshirt": "M"}),
        ("jveux inscrire au camp de jour", {"program": 1}),
    ],
)
def test_what_is_kept_of_a_message(text: str, expected: dict[str, object]) -> None:
    assert facts.parse_facts(text, CATALOG) == expected


def test_a_clause_about_health_or_a_nas_is_not_read() -> None:
    said = "Léa au camp de jour semaine 2. Elle a le TDAH, Ritalin le midi; NAS 123 456 789"
    kept = facts.parse_facts(said, CATALOG)
    assert kept == {"names": ["Léa"], "program": 1, "weeks": [2]}
    assert "Ritalin" not in json.dumps(kept) and "123" not in json.dumps(kept)


def test_without_the_catalog_only_names_and_which_child_are_kept() -> None:
    assert facts.parse_facts("Emma au camp semaines 1 à 3", None) == {"names": ["Emma"]}


def test_the_facts_said_back_read_as_they_were_meant() -> None:
    kept = json.dumps(
        {
            "names": ["Léa"],
            "program": 1,
            "site": 2,
            "weeks": [2, 3, 4],
            "options": {"garde": True, "velo": False},
            "tshirt": "M",
            "noted": True,
        }
    )
    text = facts.as_text(kept, CATALOG)
    assert text == (
        "Léa, Camp de jour, Parc de la Rivière, semaines 2 et 3 et 4, avec service de garde, "
        "pas de transport à vélo, taille M"
    )
    again = facts.parse_facts(text, CATALOG)
    assert again == {
        "names": ["Léa"],
        "program": 1,
        "site": 2,
        "weeks": [2, 3, 4],
        "options": {"garde": True, "velo": False},
        "tshirt": "M",
    }
    assert facts.as_text(None, CATALOG) == "" and facts.as_text("not json", CATALOG) == ""


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("emma au camp semaine 2", ["Emma"]),
        ("natation pour lea niveau 3 pis thomas niveau 1", ["Lea", "Thomas"]),
        ("salut, thomas au soccer", ["Thomas"]),
        ("bonjour je voudrais le camp", []),
    ],
)
def test_a_first_name_written_in_lowercase_is_kept(text: str, names: list[str]) -> None:
    assert facts.parse_facts(text, None).get("names", []) == names


def test_each_childs_weeks_and_options_are_said_back_after_their_name() -> None:
    said = (
        "camp de jour pour emma semaines 1 et 2 avec garde pis thomas semaine 5 sans rien, "
        "au parc des erables"
    )
    kept = facts.parse_facts(said, CATALOG)
    assert kept["per_name"] == {
        "Emma": {"weeks": [1, 2], "options": {"garde": None}},
        "Thomas": {"weeks": [5], "options": {}},
    }
    text = facts.as_text(json.dumps(kept), CATALOG)
    assert text == (
        "Camp de jour, Parc des Érables, Emma semaines 1 et 2 avec service de garde, "
        "Thomas semaines 5 sans rien"
    )
    assert facts.parse_facts(text, CATALOG)["per_name"] == kept["per_name"]
