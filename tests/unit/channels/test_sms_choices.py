"""SMS menus: a number is a menu key only when it cannot be the value the question asks for."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.channels import sms_choices as c
from bot.channels import sms_render as r

ROOT = Path(__file__).resolve().parents[3]
CHILDREN = [
    {"title": "Léa", "payload": '/choisir_enfant{"enfant": "Léa"}'},
    {"title": "Thomas", "payload": '/choisir_enfant{"enfant": "Thomas"}'},
    {"title": "Les deux", "payload": '/choisir_enfant{"enfant": "les deux"}'},
]
WEEKS_QUESTION = "Quelles semaines ? Le camp compte 8 semaines. Par exemple « semaines 2 à 4 »."


def test_a_menu_of_names_is_numbered_and_a_bare_number_picks_by_position() -> None:
    menu = c.menu(CHILDREN, "utter_ask_reg_child")
    assert menu is not None
    assert menu.block() == "1. Léa\n2. Thomas\n3. Les deux\nRépondez 1, 2 ou 3."
    assert menu.pick("2") == '/choisir_enfant{"enfant": "Thomas"}'
    assert menu.pick(" 3. ") == '/choisir_enfant{"enfant": "les deux"}'
    assert menu.pick("4") is None
    assert menu.pick("B") is None  # letters are not its keys
    assert menu.pick("2 semaines") is None
    assert menu.pick("100001") is None  # a client number is never a key


def test_at_the_weeks_question_a_number_is_a_week_and_the_shortcut_has_a_letter() -> None:
    menu = c.menu([{"title": "Tout l'été", "payload": "Tout l'été"}], "utter_ask_reg_weeks")
    assert menu is not None
    assert menu.lines == ("A. Tout l'été",)
    assert menu.hint == "Répondez A, ou écrivez votre réponse."
    assert menu.pick("1") is None  # "1" reaches the bot as typed: week 1
    assert menu.pick("a") == "Tout l'été"
    [body] = r.render(WEEKS_QUESTION, [{"title": "Tout l'été"}], "utter_ask_reg_weeks")
    assert body.endswith("\nA. Tout l'été\nRépondez A, ou écrivez votre réponse.")


def test_choices_that_carry_their_own_number_are_keyed_by_it() -> None:
    buttons = [
        {"title": "2 versements", "payload": "2 versements"},
        {"title": "1 versement", "payload": "1 versement"},
    ]
    menu = c.menu(buttons, "utter_ask_pay_installments")
    assert menu is not None
    assert menu.block() == "2 versements\n1 versement\nRépondez 2 ou 1."
    assert menu.pick("1") == "1 versement"  # the number IS the value, whatever the order
    assert menu.pick("2") == "2 versements"
    levels = c.menu([{"title": f"Niveau {n}"} for n in (3, 4, 5)], None)
    assert levels is not None and levels.pick("4") == "Niveau 4"
    assert levels.pick("1") is None


def test_choices_with_numbers_that_do_not_key_them_are_lettered() -> None:
    # Two parks offering the same age group: the digits do not tell the choices apart.
    buttons = [{"title": "Parc des Érables, 9-12 ans"}, {"title": "Parc de la Rivière, 9-12 ans"}]
    menu = c.menu(buttons, "utter_ask_reg_group_site")
    assert menu is not None
    assert menu.lines == ("A. Parc des Érables, 9-12 ans", "B. Parc de la Rivière, 9-12 ans")
    assert menu.pick("b") == "Parc de la Rivière, 9-12 ans"
    assert menu.pick("1") is None


def test_no_buttons_no_menu() -> None:
    assert c.menu([], "utter_ask_reg_child") is None
    assert r.render("Bonjour!", []) == ["Bonjour!"]


def test_every_listed_question_is_a_response_of_the_domain() -> None:
    domain = yaml.safe_load((ROOT / "bot" / "domain.yml").read_text(encoding="utf-8"))
    assert c.numeric_questions(), "the list is read"
    assert c.numeric_questions() <= set(domain["responses"])


@pytest.mark.parametrize("events_kind", ["answered", "no buttons", "waiting"])
def test_the_last_question_is_read_from_the_events(events_kind: str) -> None:
    from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

    asked = BotUttered(
        "Pour quel enfant?", {"buttons": CHILDREN}, {"utter_action": "utter_ask_reg_child"}
    )
    events: list[object] = [UserUttered("Bonjour"), asked, ActionExecuted("action_listen")]
    if events_kind == "answered":
        events += [UserUttered("2"), BotUttered("C'est noté.")]
    elif events_kind == "no buttons":
        events += [BotUttered("Une dernière chose.")]
    found = c.last_question(events)
    if events_kind == "waiting":
        assert found == (CHILDREN, "utter_ask_reg_child")
    else:
        assert found is None
