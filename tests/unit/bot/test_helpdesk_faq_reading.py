"""How a price question is read, and how the city's hours are said (pure functions)."""

from __future__ import annotations

import yaml

from bot.actions.helpdesk_faq_quote import WHOLE_SEASON, read_price_question, read_weeks_count
from bot.actions.helpdesk_faq_values import clock_text, hours_text
from bot.actions.parsing import Named
from tests.unit.bot.test_helpdesk_questions import ROOT

DOMAIN = yaml.safe_load((ROOT / "bot" / "domain.yml").read_text(encoding="utf-8"))
PROGRAMS = [
    Named(1, "Camp de jour", ("camp de jour", "camp")),
    Named(2, "Natation Junior", ("natation", "piscine")),
    Named(3, "Soccer récréatif", ("soccer",)),
]


def test_weeks_are_counted_in_digits_words_and_the_whole_summer() -> None:
    assert read_weeks_count("combien pour 3 semaines") == 3
    assert read_weeks_count("trois sem de camp") == 3
    assert read_weeks_count("tout l'ete au camp") == WHOLE_SEASON
    assert read_weeks_count("combien le camp") is None
    assert read_weeks_count("mon gars a 7 ans, combien") is None


def test_a_price_question_names_the_activity_and_options() -> None:
    asked = read_price_question("2 sem de camp avec la garde pis le velo", PROGRAMS)
    assert (asked.program_id, asked.weeks) == (1, 2)
    assert asked.options == frozenset({"garde", "velo"})
    plain = read_price_question("combien 4 semaines sans garde", PROGRAMS)
    assert plain.program_id is None and plain.options == frozenset() and plain.asks_a_total
    assert read_price_question("c'est combien le soccer", PROGRAMS).program_id == 3


def test_hours_are_said_once_per_run_of_days() -> None:
    city = {
        "hours": {str(d): ["08:30", "16:30"] for d in range(1, 6)} | {"6": ["09:00", "12:00"]},
    }
    assert hours_text(city, DOMAIN) == (
        "du lundi au vendredi, de 8 h 30 à 16 h 30 ; le samedi, de 9 h à 12 h"
    )
    assert clock_text("16:00") == "16 h" and clock_text("08:05") == "8 h 05"


def test_a_public_question_is_told_from_a_registration() -> None:
    from bot.actions.helpdesk_faq_quote import public_question

    assert public_question("2 sem de camp + garde ca revient a cb") == "prices"
    assert public_question("le soccer coute combien?") == "prices"
    assert public_question("ca me couterait quoi pour 3 semaines") == "prices"
    assert public_question("je peux faire 2 paiements?") == "payment_terms"
    assert public_question("je veux inscrire Léa au camp, c'est combien ?") is None
    assert public_question("mes places restent combien de temps") is None
    assert public_question("Thomas au camp semaine 2") is None
