"""The registration off the straight path through Rasa's REST channel (model, action server,
backend on the demo city), then the backend's cart: « les deux » at the options question,
two levels for two children in one message, and « ok pis là ? » after a removal."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.e2e.backend_state import family_lines
from tests.e2e.conversation import Parent, converse

pytestmark = pytest.mark.e2e


def identification_rules(parent: Parent, client: str, phone: str) -> list[tuple[str, Any]]:
    digits = re.sub(r"\D", "", phone)
    return [
        ("quel est ce code", lambda: parent.latest_code(digits)),
        ("numéro de client", f"mon numéro de client c'est {client} pis mon tel {phone}"),
        ("téléphone inscrit", phone),
    ]


def at_next_step(text: str) -> bool:
    return "passer la commande" in text.lower()


def test_les_deux_at_the_options_question_takes_both_options_for_one_child(
    parent: Parent, database: Engine
) -> None:
    before = {line["id"] for line in family_lines(database, "100001")}
    converse(
        parent,
        "je voudrais inscrire Thomas au camp de jour au parc de la Rivière, semaine 4",
        [
            *identification_rules(parent, "100001", "418-555-0101"),
            ("service de garde", "Les deux"),
        ],
        done=at_next_step,
        limit=6,
    )
    new = [line for line in family_lines(database, "100001") if line["id"] not in before]
    assert [(line["child"], line["week"], line["options"]) for line in new] == [("Thomas", 4, 2)], (
        parent.dump()
    )


def test_two_levels_in_one_message_then_ok_pis_la_after_a_removal(
    parent: Parent, database: Engine
) -> None:
    converse(
        parent,
        "Bonjour, la natation pour léa niveau 6 et thomas niveau 1 svp",
        identification_rules(parent, "100001", "418-555-0101"),
        done=at_next_step,
        limit=5,
    )
    swim = {
        line["child"]: line["grp"]
        for line in family_lines(database, "100001")
        if line["grp"] in ("Niveau 6", "Niveau 1")
    }
    assert swim == {"Léa": "Niveau 6", "Thomas": "Niveau 1"}, parent.dump()

    parent.says_text("enlève le niveau 1 de Thomas")
    assert at_next_step(parent.last_question), parent.dump()
    before = sorted(line["id"] for line in family_lines(database, "100001"))
    parent.says_text("ok pis là ?")
    # the next step again, no new registration started
    assert "pour quel enfant" not in parent.last_question.lower(), parent.dump()
    assert "commande" in parent.last_question.lower(), parent.dump()
    assert sorted(line["id"] for line in family_lines(database, "100001")) == before
    remaining = {
        line["grp"] for line in family_lines(database, "100001") if line["child"] == "Thomas"
    }
    assert "Niveau 1" not in remaining and "Niveau 6" in {
        line["grp"] for line in family_lines(database, "100001") if line["child"] == "Léa"
    }
