"""The family's own state through the REST channel, on the demo families: what the parent
reads comes from the backend's state, and a question asked before identification is answered
right after it; the containment entries of tests/e2e/helpdesk/questions/state.yml."""

from __future__ import annotations

import json
import re
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import yaml
from localstripe_process import LocalStripe, browser_confirms_setup
from sqlalchemy import Engine, text
from stack import Stack

from tests.e2e.backend_state import latest_order
from tests.e2e.checkout_setup import SERVICE, demo_family, family_token, hold_places
from tests.e2e.conversation import Parent, converse, http_json
from tests.e2e.scripted_parents import clone_family

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = ROOT / "tests" / "e2e" / "helpdesk" / "questions" / "state.yml"
DOMAIN = yaml.safe_load((ROOT / "bot" / "domain.yml").read_text())
LINK = re.compile(r"https?://\S+/p/[A-Za-z0-9_-]+")


def identification_rules(parent: Parent, client: str, phone: str) -> list[tuple[str, Any]]:
    digits = re.sub(r"\D", "", phone)
    return [
        ("quel est ce code", lambda: parent.latest_code(digits)),
        ("numéro de client", f"mon numéro de client c'est {client} pis mon tel {phone}"),
        ("téléphone inscrit", phone),
    ]


def ordered(parent: Parent, number: int, week: int) -> tuple[str, str, dict[str, Any]]:
    """(client, phone, order) of the n-th demo family with one camp week ordered (1 payment),
    through the backend's own routes as another conversation would have."""
    client, phone = demo_family(number)
    token = family_token(parent, client, phone)
    hold_places(parent, token, "camp_de_jour", [week])
    order = http_json(
        "POST",
        f"{parent.backend_url}/api/checkout",
        {"installments": 1, "accept_terms": True},
        {**SERVICE, "X-Family-Token": token},
    )
    return client, phone, dict(order)


def response_of(reply: str) -> str | None:
    """The domain response a reply was rendered from (its fixed words, the variables any)."""
    for name, variants in DOMAIN["responses"].items():
        if name.startswith("utter_fragment"):
            continue
        for variant in variants:
            parts = re.split(r"\{[a-z_]+\}", str(variant.get("text", "")))
            pattern = ".*?".join(re.escape(p) for p in parts)
            if re.fullmatch(pattern, reply, re.S):
                return str(name)
    return None


def test_paid_is_it_confirmed_before_identification(parent: Parent, database: Engine) -> None:
    """« c'est fait j'ai payé, c'est confirmé ? » from a family whose order is not paid: the
    question is kept through identification, the real state is said and a new link sent."""
    client, phone, order = ordered(parent, 12, 4)
    opening = parent.says_text("c'est fait j'ai payé, c'est confirmé?")
    assert "en note" in opening and "numéro de client" in opening, parent.dump()
    final = converse(
        parent,
        f"mon numéro de client c'est {client} pis mon tel {phone}",
        identification_rules(parent, client, phone),
        done=lambda t: bool(LINK.search(t)),
        limit=4,
    )
    assert "pas encore votre paiement" in final and "n'est pas confirmée" in final
    assert order["payment_url"] in final
    state = latest_order(database, client)
    assert state["id"] == order["order_id"] and state["status"] == "awaiting_payment"
    assert [i["status"] for i in state["installments"]] == ["scheduled"]


def test_waitlisted_child_rank_and_nothing_due(parent: Parent, database: Engine) -> None:
    """A demo family whose child is confirmed (week 1, full) and waitlisted nowhere."""
    client, phone = demo_family(13)
    final = converse(
        parent,
        "est-ce que mon enfant est inscrit?",
        identification_rules(parent, client, phone),
        done=lambda t: "inscription" in t.lower() and "confirmée" in t,
        limit=4,
    )
    assert "Enfant" in final and "semaine 1" in final, parent.dump()
    assert "Vous ne devez rien" in parent.says_text("combien je vous dois?")
    assert "aucune liste d'attente" in parent.says_text("je suis rendu ou sur la liste d'attente")


def test_containment_entries_answer_from_the_state(stack: Stack, database: Engine) -> None:
    """Each entry's first reply comes from one of its expected responses. Family entries are
    asked in one conversation of a fresh copy of Julie's family (the demo family's hourly cap of
    codes is shared by every test), identified once; visitor entries each in a new one."""
    entries = yaml.safe_load(QUESTIONS.read_text())
    misses: list[str] = []

    def check(parent: Parent, entry: dict[str, Any]) -> None:
        replies = parent.say(entry["say"])
        first = str(replies[0].get("text", "")) if replies else ""
        expected = entry["expect"] if isinstance(entry["expect"], list) else [entry["expect"]]
        got = response_of(first)
        if got not in expected or not all(s in first for s in entry.get("shows", [])):
            misses.append(f"{entry['say']!r}: {got} — {first[:90]!r}")

    run = uuid.uuid4().hex[:8]  # the tracker store outlives a test session: new senders
    family = Parent(stack.rasa_url, stack.backend_url, sender=f"e2e-state-family-{run}")
    converse(
        family,
        "est-ce que mes enfants sont inscrits?",
        identification_rules(family, *clone_family(database, "julie")),
        done=lambda t: "Voici les inscriptions" in t or "aucune inscription" in t,
        limit=4,
    )
    for entry in entries:
        if entry["as"] == "family":
            check(family, entry)
            if family.last_question.endswith("Je confirme l'annulation ?"):
                family.say("non")  # nothing is cancelled by the containment run
    for n, entry in enumerate(e for e in entries if e["as"] == "visitor"):
        check(Parent(stack.rasa_url, stack.backend_url, sender=f"e2e-state-v{n}-{run}"), entry)
    rate = 1 - len(misses) / len(entries)
    print(f"state containment: {len(entries) - len(misses)}/{len(entries)}", *misses, sep="\n")
    assert rate >= 0.9, f"{rate:.0%} answered right:\n" + "\n".join(misses)


def pay(stack: Stack, url: str) -> None:
    """The parent pays on the hosted page with the test card (what Stripe.js does, then the
    page's POST), as tests/e2e/test_conversations.py does."""
    with urllib.request.urlopen(url, timeout=30) as r:
        page = r.read().decode()
    found = re.search(r'<script type="application/json" id="config">(.*?)</script>', page, re.S)
    assert found is not None
    config = json.loads(found.group(1))
    status, setup = browser_confirms_setup(
        LocalStripe(base=stack.localstripe_url), config["secret"], "4242424242424242"
    )
    assert status == 200, setup
    request = urllib.request.Request(
        url + "/pay",
        data=json.dumps({"setup_id": setup["id"]}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as r:
        assert json.loads(r.read())["status"] == "paid"


def wait_until_paid(database: Engine, client: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # the gateway's webhook arrives asynchronously
        order = latest_order(database, client)
        if order["status"] == "paid":
            return order
        time.sleep(0.5)
    raise AssertionError(f"the order of {client} was never paid: {latest_order(database, client)}")


def refunds(database: Engine, order_id: int) -> int:
    with database.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT coalesce(sum(amount_cents), 0) FROM refund "
                    "WHERE order_id = :o AND reason = 'cancellation'"
                ),
                {"o": order_id},
            ).scalar_one()
        )


def line_status(database: Engine, order_id: int) -> list[str]:
    with database.connect() as conn:
        rows = conn.execute(
            text("SELECT status FROM line WHERE order_id = :o ORDER BY id"), {"o": order_id}
        )
        return [str(r[0]) for r in rows]


def money_text(cents: int) -> str:
    return f"{cents // 100},{cents % 100:02d}"


def test_cancel_a_paid_week_by_chat_refunds_it(
    parent: Parent, database: Engine, stack: Stack
) -> None:
    """« je veux annuler la semaine 4 de mon fils »: not a stop; the refund is stated from the
    backend's quote, and only the « oui » cancels: the line is cancelled, the week refunded in
    full (months before the camp, no fee), the order refunded."""
    client, phone, order = ordered(parent, 14, 4)
    pay(stack, order["payment_url"])
    paid = wait_until_paid(database, client)
    price = int(paid["total_cents"])
    opening = parent.says_text("je veux annuler la semaine 4 de mon fils")
    assert "en note" in opening, parent.dump()  # kept through identification, not stopped
    asked = converse(
        parent,
        f"mon numéro de client c'est {client} pis mon tel {phone}",
        identification_rules(parent, client, phone),
        done=lambda t: "Je confirme l'annulation" in t,
        limit=4,
    )
    assert "semaine 4" in asked and money_text(price) in asked, parent.dump()
    assert line_status(database, order["order_id"]) == ["confirmed"]  # nothing changed yet
    done = parent.says_text("oui")
    assert "C'est annulé" in done and money_text(price) in done, parent.dump()
    assert line_status(database, order["order_id"]) == ["cancelled"]
    assert refunds(database, order["order_id"]) == price
    assert latest_order(database, client)["status"] == "refunded"


def test_cancel_declined_changes_nothing(parent: Parent, database: Engine) -> None:
    """« annuler l'inscription de mon enfant » names no week: every registration of the only
    child is asked about (the confirmed week 1, the week held in the cart); « non » keeps all."""
    client, phone, order = ordered(parent, 15, 5)
    converse(
        parent,
        "est-ce que mes enfants sont inscrits?",
        identification_rules(parent, client, phone),
        done=lambda t: "Voici les inscriptions" in t,
        limit=4,
    )
    asked = parent.says_text("je veux annuler l'inscription de mon enfant")
    assert "Je confirme l'annulation" in asked, parent.dump()
    assert "semaine 1" in asked and "semaine 5" in asked and "Rien n'a été payé" in asked
    assert "je n'annule rien" in parent.says_text("non")
    assert line_status(database, order["order_id"]) == ["held"]
    assert refunds(database, order["order_id"]) == 0
    with database.connect() as conn:
        confirmed = conn.execute(
            text(
                "SELECT count(*) FROM line l JOIN person p ON p.id = l.person_id "
                "JOIN family f ON f.id = p.family_id "
                "WHERE f.client_number = :c AND l.status = 'confirmed'"
            ),
            {"c": client},
        ).scalar_one()
    assert confirmed == 1
