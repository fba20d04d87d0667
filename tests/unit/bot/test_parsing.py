"""What parents type, and what the bot must understand from it (pure parsing, no Rasa)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.actions import parsing as p

WEEKS = [
    p.Week(n, date(2027, 6, 28) + timedelta(weeks=n - 1), date(2027, 7, 2) + timedelta(weeks=n - 1))
    for n in range(1, 9)
]
KIDS = [p.Child(3, "Léa", date(2018, 5, 14)), p.Child(4, "Thomas", date(2020, 4, 3))]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("semaine 1", [1]),
        ("les semaines 2 à 4", [2, 3, 4]),
        ("semaines 2 a 4", [2, 3, 4]),
        ("sem 2-4", [2, 3, 4]),
        ("tout l'été", list(range(1, 9))),
        ("tout l ete", list(range(1, 9))),
        ("toutes les semaines sauf la 3", [1, 2, 4, 5, 6, 7, 8]),
        ("tout l'ete sauf la semaine 3", [1, 2, 4, 5, 6, 7, 8]),
        ("la semaine du 12 juillet", [3]),
        ("semaine du 5 juillet pis celle du 19 juillet", [2, 4]),
        ("semaines 1, 3 et 5", [1, 3, 5]),
        ("la 2e semaine", [2]),
        ("pas la semaine 3", [1, 2, 4, 5, 6, 7, 8]),
        ("semaines 2 à 5 mais pas la 4", [2, 3, 5]),
        ("Léa au camp parc de la Rivière semaines 2 à 4 avec service de garde", [2, 3, 4]),
        ("camp 9-12 ans semaine 6", [6]),
        ("semaine 12", None),
    ],
)
def test_weeks(text: str, expected: list[int] | None) -> None:
    result = p.parse_weeks(text, WEEKS)
    assert (result or None) == expected


@pytest.mark.parametrize(("text", "expected"), [("2-4", [2, 3, 4]), ("1 et 3", [1, 3]), ("4", [4])])
def test_bare_numbers_are_weeks_only_when_asked(text: str, expected: list[int]) -> None:
    assert p.parse_weeks(text, WEEKS, expect_weeks=True) == expected
    assert p.parse_weeks(text, WEEKS) is None


def test_numbers_that_are_not_weeks_are_ignored() -> None:
    assert p.parse_weeks("natation niveau 3", WEEKS) is None
    assert p.parse_weeks("camp pour ma fille de 9 ans", WEEKS, expect_weeks=True) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Léa", [3]),
        ("c pour lea", [3]),
        ("LEA", [3]),
        ("Thomos", [4]),  # typo
        ("ma plus vieille", [3]),
        ("mon plus jeune", [4]),
        ("le petit", [4]),
        ("les deux", [3, 4]),
        ("les 2", [3, 4]),
        ("tous les deux svp", [3, 4]),
        ("non, plutôt Thomas", [4]),
        ("Léa pis Thomas", [3, 4]),
        ("le camp de jour", None),
    ],
)
def test_children(text: str, expected: list[int] | None) -> None:
    assert p.parse_children(text, KIDS) == expected


def test_child_by_number_only_after_a_list() -> None:
    assert p.parse_children("2", KIDS, allow_number=True) == [4]
    assert p.parse_children("2", KIDS) is None


@pytest.mark.parametrize(
    ("text", "asked", "wanted"),
    [
        ("avec service de garde", False, {"garde": True}),
        ("avec sg", False, {"garde": True}),
        ("finalement pas de service de garde", False, {"garde": False}),
        ("sans transport a velo", False, {"velo": False}),
        ("service de garde pis le velo", False, {"garde": True, "velo": True}),
        ("service de garde mais pas de vélo", False, {"garde": True, "velo": False}),
        ("aucun", True, {"garde": False, "velo": False}),
        ("non merci", True, {"garde": False, "velo": False}),
        ("les deux", True, {"garde": True, "velo": True}),
        ("les deux", False, {}),
        ("Léa au camp semaines 2 à 4", False, {}),
    ],
)
def test_options(text: str, asked: bool, wanted: dict[str, bool]) -> None:
    assert p.parse_options(text, WEEKS, asked=asked).wanted == wanted


def test_option_limited_to_some_weeks() -> None:
    choice = p.parse_options("service de garde semaine 2 seulement", WEEKS)
    assert choice.wanted == {"garde": True}
    assert choice.weeks == {"garde": [2]}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("oui", True),
        ("Ouais", True),
        ("ok", True),
        ("d'accord", True),
        ("👍", True),
        ("yes", True),
        ("oui j'accepte", True),
        ("parfait merci", True),
        ("non", False),
        ("Non merci", False),
        ("nope", False),
        ("pas maintenant", False),
        ("laisse faire", False),
        ("peut-être", None),
        ("semaine 3", None),
    ],
)
def test_yes_no(text: str, expected: bool | None) -> None:
    assert p.parse_yes_no(text) is expected


def test_identification_numbers() -> None:
    assert p.parse_client_number("mon no de client c 100001") == "100001"
    assert p.parse_phone("418-555-0101") == "4185550101"
    assert p.parse_phone("mon cell: (418) 555 0101") == "4185550101"
    assert p.parse_phone("+1 418 555 0101") == "4185550101"
    assert p.parse_phone("100001") is None
    assert p.parse_phone("100001 418 555 0101") == "4185550101"
    assert p.parse_client_number(p.without_phone("100001 418 555 0101")) == "100001"
    assert (
        p.parse_client_number(p.without_phone("418-555-0101 pis mon numero c 100001")) == "100001"
    )
    assert p.parse_phone("4185550101") == "4185550101"
    assert p.parse_code("le code c 482 913") == "482913"
    assert p.parse_code("482913") == "482913"
    assert p.parse_code("48291") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("M", "M"),
        ("taille m", "M"),
        ("medium", "M"),
        ("TP", "TP"),
        ("tres petit", "TP"),
        ("xl", "TG"),
        ("grandeur G svp", "G"),
        ("oui", None),
        ("Léa au camp", None),
    ],
)
def test_tshirt(text: str, expected: str | None) -> None:
    assert p.parse_tshirt(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 versement", 1),
        ("en 2 versements", 2),
        ("deux fois", 2),
        ("un seul paiement", 1),
        ("tout d'un coup", 1),
    ],
)
def test_installments(text: str, expected: int) -> None:
    assert p.parse_installments(text) == expected


def test_catalog_matching_tolerates_typos_and_accents() -> None:
    programs = [
        p.Named(1, "Camp de jour", p.category_aliases("camp_de_jour", "Camp de jour")),
        p.Named(2, "Natation Junior", p.category_aliases("natation", "Natation Junior")),
        p.Named(3, "Soccer récréatif", p.category_aliases("sport", "Soccer récréatif")),
    ]
    sites = [
        p.Named(1, "Parc des Érables", p.site_words("Parc des Érables")),
        p.Named(2, "Parc de la Rivière", p.site_words("Parc de la Rivière")),
    ]
    assert p.best_match("jveux inscrire ma fille au camp", programs) == 1
    assert p.best_match("natation niveau 3", programs) == 2
    assert p.best_match("cours de piscine", programs) == 2
    assert p.best_match("socer", programs) == 3
    assert p.best_match("au parc des erabels", sites) == 1
    assert p.best_match("la riviere", sites) == 2
    assert p.best_match("bonjour", sites) is None
    assert p.parse_level("natation niveau 3") == 3
    assert p.parse_level("nv 4") == 4
