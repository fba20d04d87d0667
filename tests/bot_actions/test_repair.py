"""Never silence inside a form: an empty message, emoji alone or gibberish gets the question again
with an example, then explained differently with the city's help line, then the help line
without a third identical question (the repair ladder), in each of the three forms."""

from __future__ import annotations

from flows import identify, new_chat, open_conversation, registration_done, start_checkout
from harness import Chat, cart, responses

ODD = ["", "🙄🤷", "asdfgh qwerty"]


async def climb(chat: Chat, slot: str) -> list[list[str | None]]:
    said = []
    for text in ODD:
        replies = await chat.answer(text, "nlu_fallback", 0.3)
        assert replies and all(r.text.strip() for r in replies), chat.dump()
        said.append(responses(replies))
    # 19:00 on registration night: the help desk is closed, its next opening is named
    assert said == [[f"utter_reask_{slot}"], [f"utter_explain_{slot}"], ["utter_stuck_closed"]], (
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


async def test_registration_form_lets_go_after_the_third_miss_and_continuer_resumes(
    backend_url: str,
) -> None:
    chat = new_chat()
    await open_conversation(chat, "inscrire Léa au camp à la Rivière")
    replies = await identify(chat, backend_url, "100001", "418-555-0101")
    assert responses(replies)[-1] == "utter_ask_reg_weeks", chat.dump()
    said = []
    for text in ODD:
        replies = await chat.answer(text, "nlu_fallback", 0.3)
        said.append(responses(replies))
    # weeks have no short list of choices: explained, then the help line and the form lets go
    assert said == [
        ["utter_reask_reg_weeks"], ["utter_explain_reg_weeks"], ["utter_released_closed"]
    ]
    assert "418 555-0199" in chat.transcript[-1] and "continuer" in chat.transcript[-1]
    assert chat.active_loop is None and chat.slots["repair_level"] == 0.0
    assert await registration_done(chat) == []  # nothing added: the draft is not complete
    assert chat.slots["reg_child"] and chat.slots["reg_program"], chat.dump()  # draft kept

    chat.say("continuer", "continue")
    await chat.run("action_continue")
    assert chat.slots["resume"] == "registration"
    replies = await chat.form_turn("registration_form")
    assert responses(replies) == ["utter_ask_reg_weeks"], chat.dump()  # rung 0 again
    replies = await chat.answer("les semaines 6 et 7")
    assert responses(replies) == ["utter_ask_reg_options_garde"], chat.dump()
    await chat.answer("aucune")  # no option at all: the vélo question is not asked
    await registration_done(chat)
    weeks = sorted(line["week"] for line in cart(backend_url, chat.token)["lines"])
    assert weeks[-2:] == [6, 7], weeks


async def test_numbered_choices_after_two_misses_and_a_number_picks_one(
    backend_url: str,
) -> None:
    chat = new_chat()
    await open_conversation(chat, "je veux inscrire un enfant à la natation")
    replies = await identify(chat, backend_url, "100001", "418-555-0101")
    assert responses(replies)[-1] == "utter_ask_reg_child", chat.dump()
    await chat.answer(ODD[0], "nlu_fallback", 0.3)
    replies = await chat.answer(ODD[1], "nlu_fallback", 0.3)
    assert responses(replies) == ["utter_ask_numbered"], chat.dump()
    assert "1. Léa" in replies[0].text and "2. Thomas" in replies[0].text
    replies = await chat.answer("2")
    assert chat.slots["reg_child"] and len(chat.slots["reg_child"]) == 1, chat.dump()
    assert responses(replies) == ["utter_ask_reg_group_level"], chat.dump()


async def test_checkout_form_repair_ladder(backend_url: str) -> None:
    chat = new_chat()
    # two weeks (190 $): a camp order of at least 100 $ may be paid in 2 installments
    await open_conversation(chat, "inscrire Thomas au camp à la Rivière semaines 7 et 8")
    await identify(chat, backend_url, "100001", "418-555-0101")
    await chat.answer("non")
    await chat.answer("non")
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
