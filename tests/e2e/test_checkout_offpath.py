"""The checkout off the straight path, through Rasa's REST channel, then the backend's state:
Québec yes and no at the terms, questions answered without accepting anything, two versements
refused with the backend's reason, the hold's expiry and the texto-only family, « arrêter »
then « continuer », « annuler » then « oui ». Each test is one demo family with places held."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import Engine

from tests.e2e.backend_state import family_lines
from tests.e2e.checkout_setup import (
    demo_family,
    family_token,
    hold_places,
    identified_and_stopped,
    local_time,
    orders,
)
from tests.e2e.conversation import Parent

pytestmark = pytest.mark.e2e

LINK = re.compile(r"https?://\S+/p/[A-Za-z0-9_-]+")
ACCEPT_QUESTION = "acceptez-vous les modalités de paiement ?"


def at_terms(parent: Parent, number: int, category: str, weeks: list[int]) -> tuple[str, str]:
    client, phone = demo_family(number)
    held = hold_places(parent, family_token(parent, client, phone), category, weeks)
    identified_and_stopped(parent, client, phone)
    expiry = min(line["hold_expires_at"] for line in held["lines"])
    return client, local_time(expiry)


def test_questions_then_pas_de_probleme_pays_in_one(parent: Parent, database: Engine) -> None:
    client, expiry = at_terms(parent, 2, "camp_de_jour", [3, 4])
    parent.say("je veux passer la commande")
    assert "versement" in parent.last_question, parent.dump()

    # a question at the installments prompt is explained, and the same choice comes back
    parent.say("c'est quoi la différence?")
    assert "1 ou 2 versements ?" in parent.last_question, parent.dump()

    parent.say("en 1 versement")
    recap = parent.last_question
    assert ACCEPT_QUESTION in recap.lower(), parent.dump()
    # what is agreed to is on screen before the yes: plan, hold expiry, where the link goes
    assert "1 versement" in recap and f"réservées jusqu'à {expiry}" in recap, parent.dump()
    assert "par texto" in recap and "courriel" not in recap, parent.dump()

    parent.say("c'est quoi les conditions?")
    assert ACCEPT_QUESTION in parent.last_question.lower(), parent.dump()
    assert orders(database, client) == [], parent.dump()  # a question is never a yes

    parent.say("merci!")
    assert ACCEPT_QUESTION in parent.last_question.lower(), parent.dump()
    assert orders(database, client) == []

    final = parent.says_text("pas de problème")
    assert LINK.search(final), parent.dump()
    assert "courriel" not in final, parent.dump()  # none on file: none promised
    (order,) = orders(database, client)
    assert order["installment_count"] == 1 and order["total_cents"] == 2 * 9500
    lines = family_lines(database, client)
    assert {line["order_id"] for line in lines if line["week"] in (3, 4)} == {order["id"]}


def test_laisse_faire_declines_and_keeps_the_cart(parent: Parent, database: Engine) -> None:
    client, expiry = at_terms(parent, 3, "camp_de_jour", [5])
    before = [(line["id"], line["status"]) for line in family_lines(database, client)]
    parent.say("je veux payer")
    if "versement" in parent.last_question and "acceptez" not in parent.last_question.lower():
        parent.say("1")
    assert ACCEPT_QUESTION in parent.last_question.lower(), parent.dump()
    declined = parent.says_text("laisse faire")
    assert "pas passée" in declined and f"jusqu'à {expiry}" in declined, parent.dump()
    assert orders(database, client) == []
    assert [(line["id"], line["status"]) for line in family_lines(database, client)] == before


def test_two_versements_refused_for_swimming_with_the_reason(
    parent: Parent, database: Engine
) -> None:
    client, _ = at_terms(parent, 4, "natation", [1])
    said = parent.says_text("je veux payer en 2 fois")
    # the refusal and its reason in the same turn, then the next question
    assert "2 versements est offert seulement" in said, parent.dump()
    assert ACCEPT_QUESTION in parent.last_question.lower(), parent.dump()
    assert "1 versement" in parent.last_question
    final = parent.says_text("certain")
    assert LINK.search(final), parent.dump()
    (order,) = orders(database, client)
    assert order["installment_count"] == 1


def test_stop_then_continue_returns_to_the_terms(parent: Parent, database: Engine) -> None:
    client, expiry = at_terms(parent, 5, "camp_de_jour", [6, 7])
    parent.say("je veux passer la commande")
    parent.say("2 versements")
    assert "2 versements" in parent.last_question, parent.dump()
    stopped = parent.says_text("arrêter")
    assert f"réservées jusqu'à {expiry}" in stopped and "continuer" in stopped, parent.dump()
    resumed = parent.says_text("continuer")
    # back at the question where the parent stopped, the 2 versements kept: no new registration
    assert ACCEPT_QUESTION in parent.last_question.lower(), parent.dump()
    assert "2 versements" in parent.last_question and "Pour quel enfant" not in resumed
    final = parent.says_text("envoye")
    assert LINK.search(final), parent.dump()
    (order,) = orders(database, client)
    assert order["installment_count"] == 2


def test_annuler_clears_the_terms_question(parent: Parent, database: Engine) -> None:
    client, _ = at_terms(parent, 6, "camp_de_jour", [8])
    parent.say("je veux payer")
    if "acceptez" not in parent.last_question.lower():
        parent.say("1")
    assert ACCEPT_QUESTION in parent.last_question.lower(), parent.dump()
    parent.say("annuler")
    after = parent.says_text("oui")
    # the pending question was cleared: this "oui" accepts nothing
    assert not LINK.search(after), parent.dump()
    assert orders(database, client) == []
    (line,) = [line for line in family_lines(database, client) if line["week"] == 8]
    assert line["status"] == "held" and line["order_id"] is None
