"""Checkout actions off the straight path, against the real backend (demo city, clock at
20 April 2027, 19 h): Québec yes and no at the terms, a question at a yes/no prompt, two
versements refused with the backend's reason, the hold's expiry and where the link goes,
« arrêter » then « continuer », small talk inside the form. Each test fills its family's cart
through the backend, then plays the checkout rules; what the backend holds is checked after."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flows import new_chat, start_checkout
from harness import Chat, cart, http_json, latest_code, responses

from bot.actions.formatting import local_time
from bot.actions.session import identified_events

LINK = re.compile(r"https?://\S+/p/[A-Za-z0-9_-]+")


def plain(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


_SESSIONS: dict[tuple[str, str], dict[str, Any]] = {}


def identified_chat(base_url: str, client: str, phone: str) -> Chat:
    """A new conversation of an identified family (the identification form is tested apart);
    one family session per module, as codes sent per hour are capped."""
    key = (base_url, client)
    if key not in _SESSIONS:
        started = http_json(
            "POST", f"{base_url}/api/identify/start", {"client_number": client, "phone": phone}
        )
        code = latest_code(base_url, re.sub(r"\D", "", phone))
        _SESSIONS[key] = http_json(
            "POST",
            f"{base_url}/api/identify/verify",
            {"challenge_id": started["challenge_id"], "code": code},
        )
    chat = new_chat()
    for event in identified_events(_SESSIONS[key], chat.sender):
        chat.slots[event["name"]] = event["value"]
    return chat


def fill_cart(base_url: str, chat: Chat, child: str, category: str, weeks: list[int]) -> None:
    """Holds `weeks` of the first group of `category` the child may join."""
    headers = {"X-Family-Token": chat.token}
    family = http_json("GET", f"{base_url}/api/family", headers=headers)
    child_id = next(c["id"] for c in family["children"] if c["first_name"] == child)
    catalog = http_json(
        "GET", f"{base_url}/api/catalog/eligible?child_id={child_id}", headers=headers
    )
    program = next(p for p in catalog["programs"] if p["category"] == category)
    group = next(g for g in program["groups"] if all(s["available"] > 0 for s in g["sessions"][:3]))
    sessions = [s["id"] for s in group["sessions"] if s["number"] in weeks]
    result = http_json(
        "POST",
        f"{base_url}/api/cart/lines",
        {"child_id": child_id, "session_ids": sessions, "options": [], "tshirt_size": "M"},
        headers=headers,
    )
    assert {r["outcome"] for r in result["results"]} == {"held"}, result


def orders_of(base_url: str, chat: Chat) -> list[dict[str, Any]]:
    """Cart lines that went into an order (the cart shows them without a hold once ordered)."""
    return [line for line in cart(base_url, chat.token)["lines"] if line.get("order_id")]


async def to_accept(chat: Chat, installments: str = "1") -> None:
    replies = await start_checkout(chat, "je veux passer la commande")
    if chat.slots["requested_slot"] == "pay_installments":
        replies = await chat.answer(f"{installments} versement")
    assert responses(replies)[-1] == "utter_ask_pay_accept", chat.dump()


@pytest.mark.parametrize(
    ("yes", "intent"),
    [
        ("pas de problème", "affirm"),
        ("certain", "affirm"),
        ("envoye", "affirm"),
        ("ben oui", "affirm"),
        ("c'est beau", "affirm"),
        # a yes followed by words that only go on or thank is still a yes
        ("oui, c'est ben beau", "affirm"),
        ("oui ok", "affirm"),
        ("parfait, merci beaucoup", "thank"),
    ],
)
async def test_quebec_yes_accepts_the_terms(backend_url: str, yes: str, intent: str) -> None:
    chat = identified_chat(backend_url, "100001", "418-555-0101")
    if not cart(backend_url, chat.token)["lines"]:
        fill_cart(backend_url, chat, "Thomas", "camp_de_jour", [6])
    await to_accept(chat)
    await chat.answer(yes, intent)
    assert chat.active_loop is None and chat.slots["pay_accept"] == "yes", chat.dump()


@pytest.mark.parametrize("no", ["pantoute", "laisse faire", "non merci", "pas vraiment"])
async def test_quebec_no_declines_and_keeps_the_cart(backend_url: str, no: str) -> None:
    chat = identified_chat(backend_url, "100001", "418-555-0101")
    if not cart(backend_url, chat.token)["lines"]:
        fill_cart(backend_url, chat, "Thomas", "camp_de_jour", [6])
    before = cart(backend_url, chat.token)["lines"]
    await to_accept(chat)
    await chat.answer(no, "deny")
    assert chat.slots["pay_accept"] == "no", chat.dump()
    replies = await chat.run("action_checkout")
    assert responses(replies) == ["utter_terms_declined"], chat.dump()
    expiry = min(line["hold_expires_at"] for line in before)
    assert f"jusqu'à {local_time(expiry)}" in replies[0].text, chat.dump()
    after = cart(backend_url, chat.token)["lines"]
    assert [line["id"] for line in after] == [line["id"] for line in before]
    assert {line["status"] for line in after} == {"held"} and not orders_of(backend_url, chat)


async def test_a_question_at_the_terms_is_answered_never_a_yes(backend_url: str) -> None:
    chat = identified_chat(backend_url, "100002", "418-555-0102")
    fill_cart(backend_url, chat, "Emma", "camp_de_jour", [2, 3])
    await to_accept(chat)
    recap = plain(chat.transcript[-1])
    # what is agreed to is on screen before the yes: the plan, the hold's expiry, the channel
    expiry = local_time(
        min(line["hold_expires_at"] for line in cart(backend_url, chat.token)["lines"])
    )
    assert "payé en 1 versement" in recap and f"réservées jusqu'à {expiry}" in recap, recap
    # Marc has no courriel on file: none is promised
    assert "par texto" in recap and "courriel" not in recap, recap

    replies = await chat.answer("c'est quoi les conditions?", "ask_why")
    assert responses(replies) == ["utter_answer_pay_accept"], chat.dump()
    assert replies[-1].text.endswith("Acceptez-vous les modalités de paiement ?")
    assert f"jusqu'à {expiry}" in replies[-1].text and "courriel" not in replies[-1].text
    assert chat.slots["pay_accept"] is None and chat.active_loop == "checkout_form"

    # "oui mais c'est quoi…?" is still a question: nothing is accepted
    replies = await chat.answer("oui mais est-ce que je peux annuler après?", "affirm")
    assert chat.slots["pay_accept"] is None, chat.dump()
    assert responses(replies)[-1] == "utter_answer_pay_accept"

    # a day camp over 100 $ may be paid in 2: the question switches the plan, and asks again
    replies = await chat.answer("je peux payer en 2 fois?", "inform")
    assert chat.slots["pay_installments"] == "2" and chat.slots["pay_accept"] is None
    assert responses(replies) == ["utter_ask_pay_accept"], chat.dump()
    assert "payé en 2 versements" in plain(replies[0].text)

    replies = await chat.answer("parfait", "affirm")
    assert chat.slots["pay_accept"] == "yes", chat.dump()
    replies = await chat.run("action_checkout")
    assert responses(replies) == ["utter_checkout_link"], chat.dump()
    assert "par texto" in replies[0].text and "courriel" not in replies[0].text
    order_id = {line["order_id"] for line in orders_of(backend_url, chat)}
    assert len(order_id) == 1, cart(backend_url, chat.token)
    order = http_json(
        "GET",
        f"{backend_url}/api/orders/{order_id.pop()}",
        headers={"X-Family-Token": chat.token},
    )
    assert len(order["installments"]) == 2


async def test_two_versements_refused_with_the_backends_reason(backend_url: str) -> None:
    chat = identified_chat(backend_url, "100004", "581-555-0104")
    fill_cart(backend_url, chat, "Yasmine", "natation", [1])
    await to_accept(chat)
    replies = await chat.answer("je peux payer en 2 fois?", "inform")
    terms = http_json(
        "GET", f"{backend_url}/api/checkout/terms", headers={"X-Family-Token": chat.token}
    )
    assert terms["allowed"] == [1]
    assert responses(replies) == [
        f"utter_installments_refused_{terms['refused_reason']}",
        "utter_ask_pay_accept",
    ], chat.dump()
    assert chat.slots["pay_installments"] == "1" and chat.slots["pay_accept"] is None


async def test_stop_then_continue_comes_back_to_the_checkout(backend_url: str) -> None:
    chat = identified_chat(backend_url, "100001", "418-555-0101")
    fill_cart(backend_url, chat, "Léa", "camp_de_jour", [4, 5])
    await to_accept(chat, installments="2")
    assert chat.slots["pay_installments"] == "2"

    # rule "stop inside checkout_form": the form is deactivated, then the checkout says so
    chat.say("arrêter", "stop")
    chat.active_loop, chat.slots["requested_slot"] = None, None
    replies = await chat.run("action_stop_checkout")
    assert responses(replies) == ["utter_checkout_stopped"], chat.dump()
    assert "« continuer »" in replies[0].text and "réservées jusqu'à" in replies[0].text
    assert chat.slots["pay_accept"] is None and chat.slots["checkout_ready"] is True

    # rule "continue a stopped checkout": the same question, the 2 versements kept
    replies = await start_checkout(chat, "continuer", "continue")
    assert responses(replies) == ["utter_checkout_resumed", "utter_ask_pay_accept"], chat.dump()
    assert chat.slots["pay_installments"] == "2" and "payé en 2 versements" in plain(
        replies[-1].text
    )
    assert chat.slots["reg_child"] is None  # no registration was started


async def test_stop_with_a_number_at_the_versements_question_chooses_nothing(
    backend_url: str,
) -> None:
    chat = identified_chat(backend_url, "100002", "418-555-0102")
    if not cart(backend_url, chat.token)["lines"] or orders_of(backend_url, chat):
        fill_cart(backend_url, chat, "Emma", "camp_de_jour", [5, 6])
    await start_checkout(chat, "je veux payer")
    assert chat.slots["requested_slot"] == "pay_installments", chat.dump()
    # the validator sets nothing, so the form lets the rule "stop inside checkout_form" act
    chat.say("attendez, arrêtez deux minutes", "stop")
    replies = await chat.run("validate_checkout_form")
    assert replies == [] and chat.slots["pay_installments"] is None, chat.dump()


@pytest.mark.parametrize(
    ("said", "action"), [("ça sera toute", "action_stop"), ("ce sera tout", "action_fallback")]
)
async def test_nothing_more_at_the_next_step_goes_to_the_checkout(
    backend_url: str, said: str, action: str
) -> None:
    chat = identified_chat(backend_url, "100002", "418-555-0102")
    if not [line for line in cart(backend_url, chat.token)["lines"] if not line.get("order_id")]:
        fill_cart(backend_url, chat, "Emma", "camp_de_jour", [8])
    chat.slots["awaiting"] = "next_step"
    # whether the model reads it as « arrêter » or not at all, it is not a stop
    chat.say(said, "stop" if action == "action_stop" else "nlu_fallback")
    replies = await chat.run(action)
    assert replies == [] and chat.slots["awaiting"] is None, chat.dump()
    last = chat.events[-1]
    assert (last["event"], last.get("name")) == ("followup", "action_start_checkout"), chat.events
    replies = await chat.run("action_start_checkout")
    assert chat.slots["checkout_ready"] is True, chat.dump()


async def test_arreter_at_the_next_step_still_stops(backend_url: str) -> None:
    chat = identified_chat(backend_url, "100002", "418-555-0102")
    chat.slots["awaiting"] = "next_step"
    chat.say("arrête ça", "stop")
    replies = await chat.run("action_stop")
    assert responses(replies) == ["utter_stopped"] and chat.slots["awaiting"] is None


async def test_small_talk_inside_the_checkout_asks_the_same_question(backend_url: str) -> None:
    chat = identified_chat(backend_url, "100002", "418-555-0102")
    if not cart(backend_url, chat.token)["lines"] or orders_of(backend_url, chat):
        fill_cart(backend_url, chat, "Emma", "camp_de_jour", [7])
    replies = await start_checkout(chat, "je veux payer")
    asked = responses(replies)[-1]
    replies = await chat.answer("merci!", "thank")
    assert responses(replies) == ["utter_thank_in_form", asked], chat.dump()
    assert chat.slots["repair_level"] == 0.0
    replies = await chat.answer("ok pis là?", "continue")
    assert responses(replies) == [asked], chat.dump()
