"""Never silence inside a form: an empty message, emoji alone or gibberish gets the question again
with an example, then explained differently with the city's help line, then the help line
without a third identical question (the repair ladder), in each of the three forms."""

from __future__ import annotations

from flows import identify, new_chat, open_conversation, registration_done, start_checkout
from harness import Chat, responses

ODD = ["", "🙄🤷", "asdfgh qwerty"]


async def climb(chat: Chat, slot: str) -> list[list[str | None]]:
    said = []
    for text in ODD:
        replies = await chat.answer(text, "nlu_fallback", 0.3)
        assert replies and all(r.text.strip() for r in replies), chat.dump()
        said.append(responses(replies))
    assert said == [[f"utter_reask_{slot}"], [f"utter_explain_{slot}"], ["utter_stuck"]], (
        chat.dump()
    )
    assert (
        "418 555-0199" in chat.transcript[-1] and "418 555-0199" in chat.transcript[-3]
    )  # explain, stuck
    return said


async def test_identification_form_repair_ladder(backend_url: str) -> None:
    chat = new_chat()
    await open_conversation(chat, "bonjour je veux inscrire ma fille")
    await climb(chat, "id_client_number")
    replies = await chat.answer("100001")  # progress resets the ladder
    assert responses(replies) == ["utter_ask_id_phone"] and chat.slots["repair_level"] == 0.0


async def test_registration_and_checkout_forms_repair_ladder(backend_url: str) -> None:
    chat = new_chat()
    await open_conversation(chat, "inscrire Léa au camp à la Rivière")
    replies = await identify(chat, backend_url, "100001", "418-555-0101")
    assert responses(replies)[-1] == "utter_ask_reg_weeks", chat.dump()
    await climb(chat, "reg_weeks")
    replies = await chat.answer("les semaines 6 et 7")
    assert responses(replies) == ["utter_ask_reg_options"], chat.dump()
    await chat.answer("aucune")
    await chat.answer("oui", "affirm")
    await registration_done(chat)

    replies = await start_checkout(chat, "on paie")
    assert responses(replies)[-1] == "utter_ask_pay_installments", chat.dump()
    await chat.answer("1 versement")
    await climb(chat, "pay_accept")
    assert chat.slots["pay_accept"] is None  # nothing accepted by default


async def test_a_blank_first_message_is_answered_without_starting_identification(
    backend_url: str,
) -> None:
    chat = new_chat()
    chat.say("   ", "inform", 0.4)
    replies = await chat.run("action_prepare_registration")
    assert responses(replies) == ["utter_empty_message"], chat.dump()
    assert "vide" in replies[0].text and "par exemple" in replies[0].text
    # the next step is to listen: no form starts, nothing is kept
    last = chat.events[-1]
    assert (last["event"], last["name"]) == ("followup", "action_listen")
    assert chat.slots["identified"] is None and chat.slots["pending_facts"] is None
