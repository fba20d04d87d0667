"""A family's questions about its own file, against the real backend (demo city): what the
parent reads comes from the backend's state (registrations, waitlist rank, balance, payment
link), and a question asked before identification is answered right after it."""

from __future__ import annotations

import re

from flows import identify, new_chat
from harness import Chat, http_json, latest_code, responses, texts

from bot.actions.helpdesk_state_cancel import named_weeks
from bot.actions.session import identified_events


def identified_chat(base_url: str, client: str, phone: str) -> Chat:
    started = http_json(
        "POST", f"{base_url}/api/identify/start", {"client_number": client, "phone": phone}
    )
    code = latest_code(base_url, re.sub(r"\D", "", phone))
    session = http_json(
        "POST",
        f"{base_url}/api/identify/verify",
        {"challenge_id": started["challenge_id"], "code": code},
    )
    chat = new_chat()
    for event in identified_events(session, chat.sender):
        chat.slots[event["name"]] = event["value"]
    return chat


def family_call(base_url: str, chat: Chat, method: str, path: str, body: object = None) -> dict:  # type: ignore[type-arg]
    return dict(http_json(method, base_url + path, body, {"X-Family-Token": chat.token}))


def checked_out(base_url: str, chat: Chat, week: int) -> dict:  # type: ignore[type-arg]
    """One camp week held for the family's first child and ordered (1 payment)."""
    family = family_call(base_url, chat, "GET", "/api/family")
    child = family["children"][0]["id"]
    catalog = family_call(base_url, chat, "GET", f"/api/catalog/eligible?child_id={child}")
    camp = next(p for p in catalog["programs"] if p["category"] == "camp_de_jour")
    group = next(g for g in camp["groups"] if all(s["available"] > 0 for s in g["sessions"]))
    session = next(s["id"] for s in group["sessions"] if s["number"] == week)
    added = family_call(
        base_url,
        chat,
        "POST",
        "/api/cart/lines",
        {"child_id": child, "session_ids": [session], "options": [], "tshirt_size": "M"},
    )
    assert added["results"][0]["outcome"] == "held", added
    return family_call(
        base_url, chat, "POST", "/api/checkout", {"installments": 1, "accept_terms": True}
    )


async def test_balance_then_a_new_link_once_the_first_expired(backend_url: str) -> None:
    chat = identified_chat(backend_url, "100002", "418-555-0102")
    order = checked_out(backend_url, chat, 5)
    chat.say("combien je vous dois", "state_balance")
    replies = await chat.run("action_helpdesk_state")
    assert responses(replies) == ["utter_state_balance"], chat.dump()
    total = f"{order['total_cents'] // 100},00"
    assert total in texts(replies) and "lien de paiement" in texts(replies)

    http_json("POST", f"{backend_url}/api/dev/clock", {"advance_minutes": 35})
    chat.say("le lien marche pu", "state_link_problem")
    replies = await chat.run("action_helpdesk_state")
    assert responses(replies) == ["utter_state_pay_link"], chat.dump()
    assert order["payment_url"] in texts(replies)
    status = family_call(backend_url, chat, "GET", "/api/family/status")
    newest = status["orders"][0]
    assert newest["id"] == order["order_id"] and newest["link_valid"] is True
    assert [line["status"] for line in status["children"][0]["lines"]] == ["held"]


async def test_unpaid_order_is_not_confirmed_and_gets_its_link(backend_url: str) -> None:
    chat = identified_chat(backend_url, "100004", "581-555-0104")
    order = checked_out(backend_url, chat, 2)
    chat.say("c'est fait j'ai payé, c'est confirmé?", "state_payment_done")
    replies = await chat.run("action_helpdesk_state")
    assert responses(replies) == ["utter_state_not_paid", "utter_state_pay_link"], chat.dump()
    assert order["payment_url"] in texts(replies)
    chat.say("j'ai pas recu de courriel de confirmation", "state_no_confirmation")
    replies = await chat.run("action_helpdesk_state")
    assert responses(replies) == ["utter_state_not_complete", "utter_state_pay_link"]


async def test_registrations_and_waitlist_rank_of_the_child_named(backend_url: str) -> None:
    chat = identified_chat(backend_url, "100001", "418-555-0101")
    family = family_call(backend_url, chat, "GET", "/api/family")
    thomas = next(c["id"] for c in family["children"] if c["first_name"] == "Thomas")
    catalog = family_call(backend_url, chat, "GET", f"/api/catalog/eligible?child_id={thomas}")
    camp = next(p for p in catalog["programs"] if p["category"] == "camp_de_jour")
    full = next(
        s["id"]
        for g in camp["groups"]
        if g["site"] == "Parc des Érables"
        for s in g["sessions"]
        if s["number"] == 1
    )
    added = family_call(
        backend_url,
        chat,
        "POST",
        "/api/cart/lines",
        {"child_id": thomas, "session_ids": [full], "tshirt_size": "TP", "join_waitlist": True},
    )
    assert added["results"][0]["outcome"] == "waitlisted", added
    chat.say("thomas est tu inscrit?", "state_registration")
    replies = await chat.run("action_helpdesk_state")
    assert responses(replies) == ["utter_state_registrations"], chat.dump()
    assert "Thomas" in texts(replies) and "rang 1" in texts(replies)
    chat.say("pis Léa elle?", "state_registration")
    replies = await chat.run("action_helpdesk_state")
    assert responses(replies) == ["utter_state_no_registration"] and "Léa" in texts(replies)
    chat.say("on est rendu ou sur la liste", "state_waitlist")
    replies = await chat.run("action_helpdesk_state")
    assert responses(replies) == ["utter_state_waitlist"] and "rang 1" in texts(replies)


async def test_a_question_before_identification_is_answered_after_it(backend_url: str) -> None:
    chat = new_chat()
    await chat.run("action_session_start")
    chat.say("est-ce que mon enfant est inscrit", "state_registration")
    await chat.run("action_helpdesk_state")
    assert chat.slots["identified"] is False
    assert chat.slots["helpdesk_question"] == "state_registration"
    replies = await chat.form_turn("identification_form")
    assert responses(replies) == ["utter_ask_id_client_number_noted"], chat.dump()
    await identify(chat, backend_url, "900003", "418-555-9002")
    followups = [e["name"] for e in chat.events if e.get("event") == "followup"]
    assert followups == ["action_helpdesk_state"], chat.dump()
    replies = await chat.run("action_helpdesk_state")
    assert responses(replies) == ["utter_state_registrations"], chat.dump()
    assert "inscription confirmée" in texts(replies)
    assert chat.slots["helpdesk_question"] is None


def test_weeks_named_in_a_cancellation() -> None:
    assert named_weeks("annuler la semaine 3 de Léa") == {3}
    assert named_weeks("annule sem 2 et 4 pour thomas") == {2, 4}
    assert named_weeks("annuler l'inscription de mon fils") == set()


def line_statuses(base_url: str, chat: Chat) -> dict[int, str]:
    status = family_call(base_url, chat, "GET", "/api/family/status")
    return {line["week"]: line["status"] for c in status["children"] for line in c["lines"]}


async def test_cancel_a_week_asks_with_the_quote_then_cancels_on_yes(backend_url: str) -> None:
    chat = identified_chat(backend_url, "900019", "418-555-9018")
    checked_out(backend_url, chat, 6)
    assert line_statuses(backend_url, chat) == {1: "confirmed", 6: "held"}
    chat.say("faut que j'annule la semaine 6 de mon enfant", "cancel_registration")
    replies = await chat.run("action_helpdesk_cancel")
    assert responses(replies) == ["utter_cancel_confirm"], chat.dump()
    assert "semaine 6" in texts(replies) and "semaine 1" not in texts(replies)
    assert chat.slots["cancel_asked"] is True
    assert line_statuses(backend_url, chat) == {1: "confirmed", 6: "held"}  # asked, not done
    chat.say("oui", "affirm")
    replies = await chat.run("action_helpdesk_cancel_confirm")
    assert responses(replies) == ["utter_cancel_done"], chat.dump()
    assert line_statuses(backend_url, chat) == {1: "confirmed"}
    assert chat.slots["cancel_asked"] is False and chat.slots["cancel_lines"] is None


async def test_cancel_without_a_child_named_lists_the_registrations(backend_url: str) -> None:
    """Julie's two children both have a place: « annuler une semaine » names neither."""
    chat = identified_chat(backend_url, "100001", "418-555-0101")
    family = family_call(backend_url, chat, "GET", "/api/family")
    for name, week, size in (("Léa", 7, "P"), ("Thomas", 8, "TP")):
        child = next(c["id"] for c in family["children"] if c["first_name"] == name)
        catalog = family_call(backend_url, chat, "GET", f"/api/catalog/eligible?child_id={child}")
        camp = next(p for p in catalog["programs"] if p["category"] == "camp_de_jour")
        session = next(
            s["id"]
            for g in camp["groups"]
            for s in g["sessions"]
            if s["number"] == week and s["available"]
        )
        added = family_call(
            backend_url,
            chat,
            "POST",
            "/api/cart/lines",
            {"child_id": child, "session_ids": [session], "tshirt_size": size},
        )
        assert added["results"][0]["outcome"] == "held", added
    chat.say("je veux annuler une semaine", "cancel_registration")
    replies = await chat.run("action_helpdesk_cancel")
    assert responses(replies) == ["utter_cancel_which"], chat.dump()
    assert "Léa" in texts(replies) and "Thomas" in texts(replies)
    assert "annuler Léa semaine 7" in texts(replies) or "annuler Thomas" in texts(replies)
    assert chat.slots["cancel_asked"] is False
    assert line_statuses(backend_url, chat)[7] == "held"


async def test_a_change_of_week_is_explained_with_the_familys_child(backend_url: str) -> None:
    chat = identified_chat(backend_url, "100001", "418-555-0101")
    chat.say("je veux changer la semaine de l'inscription", "change_registration")
    replies = await chat.run("action_helpdesk_change")
    assert responses(replies) == ["utter_change_registration"]
    assert "annuler Léa semaine 2" in texts(replies), chat.dump()
    visitor = new_chat()
    visitor.say("je veux changer de semaine", "change_registration")
    replies = await visitor.run("action_helpdesk_change")
    assert "annuler mon enfant semaine 2" in texts(replies)
