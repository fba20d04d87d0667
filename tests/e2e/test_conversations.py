"""Whole conversations through Rasa's REST channel, then the backend's state.

The stack (backend on SQLite with the demo city, action server, Rasa with the trained model)
starts once for the module. Each test is one parent on registration night (the demo clock:
20 April 2027, 19 h), with a conversation id of its own.
"""

from __future__ import annotations

import json
import re
import time
import urllib.parse
import urllib.request
from typing import Any

import pytest
from localstripe_process import LocalStripe, browser_confirms_setup
from sqlalchemy import Engine, text
from stack import Stack

from tests.e2e.backend_state import family_lines, latest_order
from tests.e2e.conversation import Parent, converse

pytestmark = pytest.mark.e2e

LINK = re.compile(r"https?://\S+/p/[A-Za-z0-9_-]+")


def has_link(bot_text: str) -> bool:
    return LINK.search(bot_text) is not None


def identification_rules(parent: Parent, client: str, phone: str) -> list[tuple[str, Any]]:
    digits = re.sub(r"\D", "", phone)
    return [
        ("quel est ce code", lambda: parent.latest_code(digits)),
        ("numéro de client", f"mon numéro de client c'est {client} pis mon tel {phone}"),
        ("téléphone inscrit", phone),
    ]


def waitlist_position(db: Engine, line_id: int, session_id: int) -> int:
    query = text(
        "SELECT id FROM line WHERE session_id = :s AND status = 'waitlisted' "
        "ORDER BY waitlisted_at, id"
    )
    with db.connect() as conn:
        ids = [row[0] for row in conn.execute(query, {"s": session_id})]
    return ids.index(line_id) + 1


def outbox_kinds(parent: Parent, recipient_fragment: str) -> list[str]:
    from tests.e2e.conversation import http_json

    rows = http_json("GET", f"{parent.backend_url}/api/dev/outbox?limit=500") or []
    return [r["kind"] for r in rows if recipient_fragment in r["recipient"]]


def test_julie_registers_lea_weeks_2_to_4_with_garde_in_one_payment(
    parent: Parent, database: Engine
) -> None:
    final = converse(
        parent,
        "Bonjour! Je voudrais inscrire Léa au camp de jour au parc de la Rivière, "
        "semaines 2 à 4, avec service de garde",
        [
            *identification_rules(parent, "100001", "418-555-0101"),
            ("modalités de paiement", "oui j'accepte les modalités"),
            ("chandail", "oui, même taille"),
            ("liste d'attente", "oui"),
            ("autre enfant", "non c'est tout, je veux payer"),
            ("versement", "en un seul versement"),
        ],
        done=has_link,
        limit=12,  # <= 12 parent messages from the first one to the payment link
    )
    assert parent.messages_sent <= 12, parent.dump()
    assert "texto" in final.lower() or "courriel" in final.lower(), parent.dump()

    lines = [line for line in family_lines(database, "100001") if line["child"] == "Léa"]
    assert sorted(line["week"] for line in lines) == [2, 3, 4], parent.dump()
    assert {line["site"] for line in lines} == {"Parc de la Rivière"}
    assert {line["grp"] for line in lines} == {"9-12 ans"}  # Léa is 9 on 30 September 2027
    assert all(line["status"] == "held" and line["options"] == 1 for line in lines)
    order = latest_order(database, "100001")
    assert order["installment_count"] == 1
    assert order["total_cents"] == 3 * (9500 + 4000)
    assert {line["order_id"] for line in lines} == {order["id"]}
    assert f"/p/{order['pay_token']}" in final
    kinds = outbox_kinds(parent, "4185550101")
    assert "payment_link" in kinds


def test_julie_registers_thomas_week_1_goes_to_the_waitlist(
    parent: Parent, database: Engine
) -> None:
    said: list[str] = []

    def agree_to_waitlist() -> str:
        said.append("waitlist")
        return "oui, mettez-le sur la liste d'attente"

    converse(
        parent,
        "allo, jveux inscrire Thomas au camp au parc des Erables, 7-8 ans, semaines 1 a 3",
        [
            *identification_rules(parent, "100001", "418-555-0101"),
            # The summary before the terms lists the waitlisted week too: match the terms first.
            ("modalités de paiement", "j'accepte"),
            ("liste d'attente", agree_to_waitlist),
            ("chandail", "oui"),
            ("service de garde", "non merci"),
            ("transport à vélo", "non plus"),
            ("autre enfant", "non, on peut payer"),
            ("versement", "1 versement"),
        ],
        done=has_link,
        limit=14,
    )
    assert said == ["waitlist"], parent.dump()
    transcript = parent.dump().lower()
    assert "aucuns frais" in transcript or "sans frais" in transcript

    lines = {line["week"]: line for line in family_lines(database, "100001")
             if line["child"] == "Thomas"}
    assert set(lines) == {1, 2, 3}, parent.dump()
    assert lines[1]["status"] == "waitlisted"
    assert lines[1]["order_id"] is None  # never billed while waiting
    assert waitlist_position(database, lines[1]["id"], lines[1]["session_id"]) == 1
    assert "1" in re.findall(r"\d+", transcript.split("liste d'attente", 1)[1])
    assert lines[2]["status"] == lines[3]["status"] == "held"
    assert {lines[2]["site"], lines[2]["grp"]} == {"Parc des Érables", "7-8 ans"}


def test_karim_non_resident_pays_in_two_installments(
    parent: Parent, database: Engine, stack: Stack
) -> None:
    final = converse(
        parent,
        "Bonjour, je veux inscrire Yasmine au camp de jour au parc de la Rivière "
        "les semaines 5 et 6",
        [
            *identification_rules(parent, "100004", "581-555-0104"),
            ("modalités de paiement", "oui, j'accepte"),
            ("chandail", "M"),
            ("service de garde", "non"),
            ("transport à vélo", "non"),
            ("liste d'attente", "oui"),
            ("autre enfant", "non merci"),
            ("versement", "en 2 versements svp"),
        ],
        done=has_link,
        limit=12,
    )
    order = latest_order(database, "100004")
    assert order["installment_count"] == 2, parent.dump()
    assert order["total_cents"] == 2 * 14000  # non-resident price
    first, second = order["installments"]
    assert (first["amount_cents"], second["amount_cents"]) == (14000, 14000)
    assert str(first["due_on"]) == "2027-04-20" and str(second["due_on"]) == "2027-05-20"

    # The parent pays the first half on the hosted page with the test card.
    link = LINK.search(final)
    assert link is not None
    with urllib.request.urlopen(link.group(0), timeout=30) as r:
        assert r.status == 200
        page = r.read().decode()
    config = json.loads(re.search(  # type: ignore[union-attr]
        r'<script type="application/json" id="config">(.*?)</script>', page, re.S).group(1))
    # What localstripe's Stripe.js does with the card in the browser; then the page's POST.
    status, setup = browser_confirms_setup(
        LocalStripe(base=stack.localstripe_url), config["secret"], "4242424242424242")
    assert status == 200, setup
    request = urllib.request.Request(
        link.group(0) + "/pay", data=json.dumps({"setup_id": setup["id"]}).encode(),
        headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=30) as r:
        assert r.status == 200 and json.loads(r.read())["status"] == "paid"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # the gateway's webhook arrives asynchronously
        if latest_order(database, "100004")["installments"][0]["status"] == "paid":
            break
        time.sleep(0.5)
    paid = latest_order(database, "100004")
    assert [i["status"] for i in paid["installments"]] == ["paid", "scheduled"]
    assert paid["status"] == "partially_paid"


def test_sophie_pending_account_is_told_kindly_and_cannot_register(
    parent: Parent, database: Engine
) -> None:
    final = converse(
        parent,
        "Bonjour, je veux inscrire Noah au soccer",
        identification_rules(parent, "100003", "418-555-0103"),
        done=lambda t: "approbation" in t.lower(),
        limit=5,
    )
    assert "en attente d'approbation" in final.lower()
    assert family_lines(database, "100003") == []
    # Asking again does not slip past the refusal.
    again = parent.says_text("je veux l'inscrire au camp de jour semaine 2")
    assert family_lines(database, "100003") == [], again


def test_five_wrong_codes_lock_identification(parent: Parent, database: Engine) -> None:
    text_ = parent.says_text("Bonjour, je voudrais inscrire ma fille Emma au camp")
    if "numéro de client" in text_.lower():
        text_ = parent.says_text("100002")
    if "téléphone" in text_.lower():
        text_ = parent.says_text("418 555-0102")
    assert "code" in text_.lower(), parent.dump()
    real = parent.latest_code("4185550102")
    wrong = "000000" if real != "000000" else "111111"
    for _ in range(5):
        text_ = parent.says_text(wrong)
    assert "bloquée" in text_.lower(), parent.dump()
    after = parent.says_text(real)
    assert "vérifié" not in after.lower(), parent.dump()
    assert family_lines(database, "100002") == []
    with database.connect() as conn:
        status = conn.execute(text(
            "SELECT c.status FROM identity_challenge c JOIN family f ON f.id = c.family_id "
            "WHERE f.client_number = '100002' ORDER BY c.created_at DESC LIMIT 1")).scalar_one()
    assert status == "locked"
