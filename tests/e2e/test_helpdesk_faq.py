"""Public questions through Rasa's REST channel: answered at once from the live facts, before
or during identification, and the interrupted question comes back; nothing is written."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from tests.e2e.conversation import Parent
from tests.e2e.scripted_parents import clone_family

pytestmark = pytest.mark.e2e


def plain(value: str) -> str:
    return value.replace("\xa0", " ")


def carts(db: Engine) -> int:
    with db.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM line")).scalar_one())


def test_a_visitor_gets_a_total_without_identifying(parent: Parent, database: Engine) -> None:
    before = carts(database)
    reply = plain(parent.says_text("allo, combien pour 3 semaines de camp avec la garde svp"))
    # 3 × (95 $ + 40 $), 3 × (140 $ + 40 $), the demo city's catalog
    assert "405,00 $" in reply and "540,00 $" in reply, parent.dump()
    assert "dossier" not in reply.lower(), parent.dump()
    assert carts(database) == before


def test_a_price_during_identification_then_the_same_question(parent: Parent) -> None:
    parent.say("bonjour je veux inscrire mon gars au camp")
    assert "numéro de client" in parent.last_question, parent.dump()
    reply = plain(parent.says_text("attends, ca coute combien 2 semaines de camp?"))
    assert "190,00 $" in reply, parent.dump()
    assert "Je dois d'abord retrouver" not in reply
    assert "numéro de client" in parent.last_question, parent.dump()


def test_the_browser_question_is_not_the_password_answer(parent: Parent) -> None:
    reply = parent.says_text("c quoi le meilleur navigateur pour votre site")
    assert "Windows XP" in reply and "Mot de passe oublié" not in reply, parent.dump()
    reply = parent.says_text("pis jai oublié mon mot de passe du portail aussi")
    assert "mot-de-passe-oublie" in reply, parent.dump()


def test_an_identified_parent_asks_the_non_resident_opening(
    parent: Parent, database: Engine
) -> None:
    client, phone = clone_family(database, "karim")
    parent.say("je veux inscrire ma fille")
    parent.say(client)
    parent.say(phone)
    parent.say(parent.latest_code(phone.replace(" ", "").replace("-", "")))
    asked = parent.last_question
    reply = parent.says_text("les inscriptions ouvrent quand pour les non residents?")
    assert "mardi 20 avril 2027, 18 h 00" in reply, parent.dump()
    assert "versement" not in reply, parent.dump()
    assert parent.last_question == asked, parent.dump()  # the registration's question again
