"""A human and a new family file, against the real backend (demo city, 19:00 on registration
night: the help desk is closed until Wednesday 8:30): a callback request the help desk then
lists; a new file opened by chat, pending until staff approve it (the parent is told); a
lost client number found with the phone on file; the account's real status."""

from __future__ import annotations

import re

from flows import identify, new_chat, open_conversation
from harness import Chat, http_json, latest_code, outbox, responses, staff_headers, texts


async def _signup_started(chat: Chat, text: str, intent: str) -> list[str | None]:
    said = await chat.run("action_session_start")
    chat.say(text, intent)
    action = "action_start_signup" if intent == "no_account" else "action_lost_client_number"
    replies = await chat.run(action)
    assert any(
        e.get("event") == "followup" and e.get("name") == "signup_form" for e in chat.events
    ), chat.dump()
    replies += await chat.form_turn("signup_form")
    return responses(said + replies)


async def test_a_new_parent_opens_a_file_that_stays_pending_until_approved(
    backend_url: str,
) -> None:
    chat = new_chat()
    said = await _signup_started(chat, "je suis nouvelle, j'ai pas de numéro", "no_account")
    assert said[-2:] == ["utter_signup_intro", "utter_ask_su_contact"], chat.dump()

    replies = await chat.answer("mon cell c'est le 819 555-0142")
    assert responses(replies) == ["utter_ask_su_code"], chat.dump()
    assert "par texto au 819 555-0142" in replies[0].text
    replies = await chat.answer("000000")
    assert responses(replies) == ["utter_su_code_invalid"] and "4 essai" in replies[0].text
    code = latest_code(backend_url, "8195550142")
    replies = await chat.answer(code)
    assert responses(replies) == ["utter_ask_su_name"], chat.dump()

    replies = await chat.answer("123")
    assert responses(replies) == ["utter_reask_su_name"], chat.dump()
    await chat.answer("je m'appelle Sophie Gagnon")
    replies = await chat.answer("12, rue des Lilas, Val-Fleuri")
    assert responses(replies) == ["utter_ask_su_other_contact_email"], chat.dump()
    replies = await chat.answer("sophie.gagnon@example.com")
    assert responses(replies) == ["utter_ask_su_children"], chat.dump()
    replies = await chat.answer("Zoé 2 mars 2018, Félix 31 février 2020")
    assert responses(replies) == ["utter_su_child_date_bad"] and "Félix" in replies[0].text
    replies = await chat.answer("Zoé 2 mars 2018 et Félix 20 novembre 2020")
    assert chat.active_loop is None, chat.dump()

    replies = await chat.run("action_create_family")
    assert responses(replies) == ["utter_signup_created"], chat.dump()
    number = re.search(r"\b(\d{6})\b", replies[0].text)
    assert number, replies[0].text
    assert "Zoé et Félix" in replies[0].text and "en attente d'approbation" in replies[0].text
    # nothing of the code, nor the contact details, stays in the conversation's slots
    assert code not in repr(chat.slots) and chat.slots["su_contact"] is None
    assert chat.slots["identified"] is True

    staff = staff_headers(backend_url)
    file = http_json("GET", f"{backend_url}/api/staff/families/{number[1]}", headers=staff)
    assert file["family"]["status"] == "pending"
    assert [c["first_name"] for c in file["family"]["children"]] == ["Zoé", "Félix"]

    chat.say("mon compte est tu encore en attente", "faq_account_pending")
    replies = await chat.run("action_account_status")
    assert responses(replies) == ["utter_account_status_pending"], chat.dump()
    assert number[1] in replies[0].text and "résident" in replies[0].text

    http_json("POST", f"{backend_url}/api/staff/families/{number[1]}/approve", headers=staff)
    told = [r for r in outbox(backend_url) if r["kind"] == "account_approved"]
    assert {r["recipient"] for r in told} == {"+18195550142", "sophie.gagnon@example.com"}
    assert all(number[1] in r["body"] for r in told)
    chat.say("pis la, c'est approuvé?", "faq_account_pending")
    replies = await chat.run("action_account_status")
    assert responses(replies) == ["utter_account_status_approved"], chat.dump()


async def test_a_lost_client_number_is_found_with_the_phone_on_file(backend_url: str) -> None:
    chat = new_chat()
    said = await _signup_started(chat, "j'ai perdu mon numéro de client", "lost_client_number")
    assert said[-2:] == ["utter_lookup_intro", "utter_ask_su_contact"], chat.dump()
    await chat.answer("418-555-0101")
    replies = await chat.answer(latest_code(backend_url, "4185550101"))
    assert responses(replies) == ["utter_su_existing"], chat.dump()
    assert "100001" in replies[0].text and "Julie Tremblay" in replies[0].text
    assert chat.active_loop is None and chat.slots["identified"] is True
    replies = await chat.run("action_create_family")
    assert replies == [] and chat.slots["su_code"] is None  # no file is created


async def test_outside_the_help_desk_hours_a_callback_is_offered_and_listed(
    backend_url: str,
) -> None:
    chat = new_chat()
    await chat.run("action_session_start")
    chat.say("je veux parler à quelqu'un", "ask_human")
    replies = await chat.run("action_offer_human")
    assert responses(replies) == ["utter_helpdesk_closed_offer"], chat.dump()
    assert "mercredi 21 avril 2027, 8 h 30" in replies[0].text
    assert chat.slots["callback_offered"] is True

    chat.say("oui", "affirm")
    replies = await chat.form_turn("callback_form")
    assert responses(replies) == ["utter_ask_cb_phone"], chat.dump()
    replies = await chat.answer("c'est le 819 555 0177")
    assert chat.active_loop is None, chat.dump()
    replies = await chat.run("action_request_callback")
    assert responses(replies) == ["utter_callback_booked"], chat.dump()
    assert "819 555-0177" in replies[0].text and "21 avril 2027, 8 h 30" in replies[0].text

    listed = http_json(
        "GET", f"{backend_url}/api/staff/callbacks", headers=staff_headers(backend_url)
    )
    assert [(c["phone"], c["topic"], c["step"]) for c in listed] == [
        ("+18195550177", "other", "none")
    ]


async def test_the_registration_let_go_offers_a_callback_with_its_step(backend_url: str) -> None:
    chat = new_chat()
    await open_conversation(chat, "inscrire Léa au camp à la Rivière")
    await identify(chat, backend_url, "100001", "418-555-0101")
    said = []
    for text in ["", "🙄🤷", "asdfgh qwerty"]:
        said.append(responses(await chat.answer(text, "nlu_fallback", 0.3)))
    assert said[-1] == ["utter_released_closed"], chat.dump()
    assert "continuer" in chat.transcript[-1] and "418 555-0199" in chat.transcript[-1]
    chat.say("oui svp", "affirm")
    replies = await chat.form_turn("callback_form")
    assert replies == [] and chat.active_loop is None, chat.dump()  # the file's phone
    replies = await chat.run("action_request_callback")
    assert "418 555-0101" in texts(replies), chat.dump()
    listed = http_json(
        "GET", f"{backend_url}/api/staff/callbacks", headers=staff_headers(backend_url)
    )
    mine = [c for c in listed if c["client_number"] == "100001"]
    assert [(c["topic"], c["step"], c["child_first_name"]) for c in mine] == [
        ("registration", "weeks", "Léa")
    ]
