"""Identification off the straight path, through Rasa's REST channel, then the backend's
state: a client number given in the first message is not asked again, a wrong client number is
corrected while the code is asked (a new code for the right file, no try counted), and small
talk inside the form gets the same question back."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import Engine, text

from tests.e2e.checkout_setup import demo_family
from tests.e2e.conversation import Parent, http_json

pytestmark = pytest.mark.e2e


def codes_sent(parent: Parent, phone: str) -> int:
    rows = http_json("GET", f"{parent.backend_url}/api/dev/outbox?limit=500") or []
    digits = re.sub(r"\D", "", phone)
    return sum(
        1 for r in rows if r["kind"] == "otp" and digits in re.sub(r"\D", "", r["recipient"])
    )


def tries_used(db: Engine, client: str) -> list[int]:
    """Wrong codes counted on each challenge of the family, oldest first."""
    query = text(
        "SELECT c.attempts FROM identity_challenge c JOIN family f ON f.id = c.family_id "
        "WHERE f.client_number = :client ORDER BY c.created_at"
    )
    with db.connect() as conn:
        return [int(r[0]) for r in conn.execute(query, {"client": client})]


def test_client_number_in_the_first_message_is_kept(parent: Parent) -> None:
    client, phone = demo_family(7)
    parent.say(f"allo, mon numéro de client c'est {client}, je veux inscrire mon enfant")
    assert "téléphone" in parent.last_question, parent.dump()
    assert "numéro de client" not in parent.last_question
    parent.say(phone)
    assert "code" in parent.last_question, parent.dump()
    assert codes_sent(parent, phone) == 1
    said = parent.says_text(parent.latest_code(re.sub(r"\D", "", phone)))
    assert "c'est vérifié" in said and "Inscrit7" in said, parent.dump()


def test_wrong_client_number_corrected_while_the_code_is_asked(
    parent: Parent, database: Engine
) -> None:
    client, phone = demo_family(8)
    parent.say("bonjour, inscription au camp svp")
    parent.say("merci")
    assert "numéro de client" in parent.last_question, parent.dump()  # the same question
    parent.say(f"123999 pis mon cell {phone}")
    assert "code" in parent.last_question, parent.dump()
    assert codes_sent(parent, phone) == 0  # no file has that number: no code went
    said = parent.says_text(f"je me suis trompé, c'est {client}")
    assert f"numéro de client {client}" in said, parent.dump()
    assert "code" in parent.last_question, parent.dump()
    assert codes_sent(parent, phone) == 1  # a new challenge for the right file
    said = parent.says_text(parent.latest_code(re.sub(r"\D", "", phone)))
    assert "c'est vérifié" in said, parent.dump()
    assert tries_used(database, client) == [0]  # the correction was never tried as a code
