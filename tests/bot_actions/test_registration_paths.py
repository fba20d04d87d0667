"""The registration off the straight path, against the real backend: each test plays what a
parent does (« les deux » at the options question, « non, plutôt Thomas », two levels in one
message, a precise removal, a question at the waitlist prompt, « merci » in the form, a long
message, a size said in passing, « ok pis là ? » after the cart) and checks both what the
parent reads and what the backend's cart holds afterwards. Each test uses its own family or
child so that the shared database stays readable."""

from __future__ import annotations

from flows import fill_form, identify, new_chat, open_conversation, registration_done
from harness import Chat, cart, responses


def lines_of(base_url: str, chat: Chat, child: str) -> list[dict]:
    return [line for line in cart(base_url, chat.token)["lines"] if line["child"] == child]


def option_codes(line: dict) -> list[str]:
    return sorted(o["code"] for o in line["options"])


async def test_les_deux_at_the_options_question_means_both_options_not_both_children(
    backend_url: str,
) -> None:
    chat = new_chat()
    await open_conversation(chat, "inscrire Léa au camp à la Rivière semaine 7")
    replies = await identify(chat, backend_url, "100001", "418-555-0101")
    assert responses(replies)[-1] == "utter_ask_reg_options_garde", chat.dump()
    replies = await chat.answer("Les deux")
    assert chat.active_loop is None, chat.dump()
    await registration_done(chat)
    lea = [line for line in lines_of(backend_url, chat, "Léa") if line["week"] == 7]
    assert [option_codes(line) for line in lea] == [["garde", "velo"]]
    assert not [line for line in lines_of(backend_url, chat, "Thomas") if line["week"] == 7]


async def test_oui_answers_the_one_option_asked(backend_url: str) -> None:
    chat = new_chat()
    await open_conversation(chat, "inscrire Thomas au camp à la Rivière semaine 6")
    await identify(chat, backend_url, "100001", "418-555-0101")
    replies = await chat.answer("oui", "affirm")
    assert responses(replies) == ["utter_ask_reg_options_velo"], chat.dump()
    replies = await chat.answer("pas vraiment", "deny")
    assert chat.active_loop is None, chat.dump()
    await registration_done(chat)
    (line,) = [line for line in lines_of(backend_url, chat, "Thomas") if line["week"] == 6]
    assert option_codes(line) == ["garde"]


async def test_switching_the_child_keeps_what_still_applies(backend_url: str) -> None:
    chat = new_chat()
    await open_conversation(chat, "Léa au camp à la Rivière semaine 5")
    replies = await identify(chat, backend_url, "100001", "418-555-0101")
    assert responses(replies)[-1] == "utter_ask_reg_options_garde", chat.dump()
    # in the form: the park and the week stay, the "non" answers nothing else
    replies = await chat.answer("non, plutôt Thomas", "correct")
    assert responses(replies) == ["utter_ask_reg_options_garde"], chat.dump()
    assert chat.slots["reg_weeks"] == [5] and chat.slots["reg_options"] is None
    await chat.answer("non")
    await chat.answer("non")
    await registration_done(chat)
    (line,) = [line for line in lines_of(backend_url, chat, "Thomas") if line["week"] == 5]
    assert (line["site"], line["group"]) == ("Parc de la Rivière", "7-8 ans")

    # after the cart: Léa's swimming level 3 moves to Thomas at the same level
    chat.say("Léa à la natation niveau 3", "register")
    await chat.run("action_prepare_registration")
    await chat.run("action_after_identification")
    await chat.form_turn("registration_form")
    assert chat.active_loop is None, chat.dump()
    await registration_done(chat)
    chat.say("non, plutôt Thomas", "correct")
    replies = await chat.run("action_correct")
    assert responses(replies)[-1] == "utter_ask_next_step", chat.dump()
    swim = [
        line for line in lines_of(backend_url, chat, "Thomas") if line["category"] == "natation"
    ]
    assert [line["group"] for line in swim] == ["Niveau 3"], chat.dump()
    assert not [
        line for line in lines_of(backend_url, chat, "Léa") if line["category"] == "natation"
    ]
    # removing that level removes that line only: his camp week stays
    chat.say("enlève le niveau 3 de Thomas", "remove_line")
    await chat.run("action_remove_line")
    kept = lines_of(backend_url, chat, "Thomas")
    assert not [line for line in kept if line["category"] == "natation"]
    assert [line for line in kept if line["week"] == 5 and line["category"] == "camp_de_jour"]


async def test_two_children_two_levels_in_one_message_then_one_line_removed(
    backend_url: str,
) -> None:
    chat = new_chat()
    await open_conversation(chat, "natation pour léa niveau 5 et thomas niveau 2")
    await identify(chat, backend_url, "100001", "418-555-0101")
    assert chat.active_loop is None, chat.dump()
    await registration_done(chat)
    swim = {
        line["child"]: line["group"]
        for line in cart(backend_url, chat.token)["lines"]
        if line["category"] == "natation" and line["group"] in ("Niveau 5", "Niveau 2")
    }
    assert swim == {"Léa": "Niveau 5", "Thomas": "Niveau 2"}, chat.dump()

    before = {line["id"] for line in cart(backend_url, chat.token)["lines"]}
    chat.say("enlève le niveau 5 de Léa", "remove_line")
    replies = await chat.run("action_remove_line")
    assert responses(replies) == ["utter_line_removed", "utter_cart", "utter_ask_next_step"]
    after = {line["id"]: line for line in cart(backend_url, chat.token)["lines"]}
    gone = before - set(after)
    assert len(gone) == 1, chat.dump()
    assert not [
        line for line in after.values() if line["child"] == "Léa" and line["group"] == "Niveau 5"
    ]
    assert [
        line for line in after.values() if line["child"] == "Thomas" and line["group"] == "Niveau 2"
    ]

    # « ok pis là ? » after the cart asks the next step again; no new registration starts
    chat.say("ok pis là ?", "continue")
    replies = await chat.run("action_continue")
    assert responses(replies) == ["utter_ask_next_step"], chat.dump()
    assert chat.slots["resume"] == "next_step" and chat.slots["reg_child"] is None


async def test_age_group_asked_for_is_not_the_childs_and_the_bot_says_so(
    backend_url: str,
) -> None:
    chat = new_chat()
    await open_conversation(chat, "Thomas au camp de jour aux Érables, groupe 9-12 ans, semaine 8")
    replies = await identify(chat, backend_url, "100001", "418-555-0101")
    said = [r.response for r in replies]
    assert "utter_group_by_age" in said, chat.dump()
    told = next(r.text for r in replies if r.response == "utter_group_by_age")
    assert told == "Thomas aura 7 ans le 30 septembre 2027 : c'est le groupe 7-8 ans."


async def test_a_question_at_the_waitlist_prompt_is_not_a_yes(backend_url: str) -> None:
    chat = new_chat()
    # week 1 of the 7-8 ans at the Érables is full in the demo
    await open_conversation(chat, "Thomas au camp aux Érables semaine 1")
    await identify(chat, backend_url, "100001", "418-555-0101")
    await chat.answer("non")
    replies = await chat.answer("non")
    assert responses(replies)[-1] == "utter_ask_reg_waitlist", chat.dump()
    replies = await chat.answer("y a tu de la place à l'autre parc?", "ask_question", 0.4)
    assert responses(replies) == ["utter_question_not_consent", "utter_ask_reg_waitlist"], (
        chat.dump()
    )
    assert chat.slots["reg_waitlist"] is None and chat.slots["repair_level"] == 0.0


async def test_thanks_and_a_long_message_inside_the_form_keep_the_question(
    backend_url: str,
) -> None:
    chat = new_chat()
    await open_conversation(chat, "inscrire Emma au camp")
    replies = await identify(chat, backend_url, "100002", "418-555-0102")
    question = responses(replies)[-1]
    assert question == "utter_ask_reg_group_site", chat.dump()
    replies = await chat.answer("merci!", "thank")
    assert responses(replies) == ["utter_thank_in_form", question], chat.dump()
    replies = await chat.answer("bla " * 300, "inform", 0.4)
    assert responses(replies) == ["utter_too_long", question], chat.dump()
    assert chat.slots["repair_level"] == 0.0


async def test_a_number_inside_a_question_picks_nothing(backend_url: str) -> None:
    chat = new_chat()
    await open_conversation(chat, "inscrire Emma")
    replies = await identify(chat, backend_url, "100002", "418-555-0102")
    assert responses(replies)[-1] == "utter_ask_reg_program", chat.dump()
    await chat.answer("je peux payer en 2 fois?", "inform", 0.5)
    assert chat.slots["reg_program"] is None, chat.dump()


async def test_a_size_said_in_passing_is_not_asked_again(backend_url: str) -> None:
    chat = new_chat()
    await open_conversation(chat, "Emma au camp aux Érables semaine 2, mettez-lui un M")
    await identify(chat, backend_url, "100002", "418-555-0102")
    replies, asked = await fill_form(chat, {"reg_options": "non"})
    assert "reg_tshirt" not in asked, chat.dump()
    await registration_done(chat)
    (line,) = [
        line
        for line in lines_of(backend_url, chat, "Emma")
        if line["week"] == 2 and line["category"] == "camp_de_jour"
    ]
    assert line["tshirt_size"] == "M"


async def test_a_week_edit_is_shown_and_can_be_declined(backend_url: str) -> None:
    chat = new_chat()
    await open_conversation(chat, "Emma au camp aux Érables semaines 6 et 7, taille M")
    await identify(chat, backend_url, "100002", "418-555-0102")
    await fill_form(chat, {"reg_options": "non"})
    await registration_done(chat)
    chat.say("remplace la 7 par la 8", "correct")
    replies = await chat.run("action_correct")
    assert responses(replies) == ["utter_confirm_weeks"], chat.dump()
    assert "semaine 6" in replies[0].text and "semaine 8" in replies[0].text
    assert "semaine 7" not in replies[0].text
    chat.say("non laisse faire", "deny")
    replies = await chat.run("action_keep_weeks")
    assert responses(replies) == ["utter_weeks_not_changed", "utter_ask_next_step"]
    weeks = sorted(
        line["week"]
        for line in lines_of(backend_url, chat, "Emma")
        if line["category"] == "camp_de_jour" and line["week"] in (6, 7, 8)
    )
    assert weeks == [6, 7], chat.dump()
