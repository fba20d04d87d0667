"""Public questions answered by action_answer_faq against the real backend: the sentence the
parent reads holds the live facts (catalog prices, season dates, the city's phone and URLs),
and inside a form the form comes back to its question."""

from __future__ import annotations

from flows import identify, new_chat, open_conversation
from harness import Chat, Reply, responses


def ask(chat: Chat, text: str, sub: str) -> None:
    """The parent's message as the model reads it: intent faq, the selector's sub-intent."""
    chat.say(text, "faq")
    chat.latest_message["response_selector"] = {
        "faq": {
            "response": {"intent_response_key": f"faq/{sub}", "utter_action": f"utter_faq/{sub}"}
        }
    }
    chat.events[-1]["parse_data"] = chat.latest_message


async def answer(chat: Chat, text: str, sub: str) -> list[Reply]:
    ask(chat, text, sub)
    return await chat.run("action_answer_faq")


def plain(reply: Reply) -> str:
    """The text with babel's no-break spaces as plain ones ("405,00 $")."""
    return reply.text.replace("\xa0", " ")


async def test_a_total_is_computed_from_the_catalog(backend_url: str) -> None:
    chat = new_chat()
    await chat.run("action_session_start")
    replies = await answer(chat, "combien pour 3 semaines de camp avec la garde", "price_total")
    assert responses(replies) == ["utter_faq/price_total"], chat.dump()
    # 3 × (95 $ + 40 $) resident, 3 × (140 $ + 40 $) non-resident
    assert "405,00 $" in plain(replies[0]) and "540,00 $" in plain(replies[0])
    assert "3 semaines avec service de garde" in plain(replies[0])


async def test_weeks_named_turn_a_price_question_into_a_total(backend_url: str) -> None:
    chat = new_chat()
    replies = await answer(chat, "c combien 2 sem de camp avec le velo", "prices")
    assert responses(replies) == ["utter_faq/price_total"]
    assert "220,00 $" in plain(replies[0]) and "310,00 $" in plain(replies[0])


async def test_the_price_list_without_weeks(backend_url: str) -> None:
    chat = new_chat()
    replies = await answer(chat, "c'est combien le camp", "price_total")
    assert responses(replies) == ["utter_faq/prices"]
    text = plain(replies[0])
    for amount in ("95,00 $", "140,00 $", "40,00 $", "15,00 $", "60,00 $", "90,00 $"):
        assert amount in text, text


async def test_opening_dates_and_phone_come_from_the_backend(backend_url: str) -> None:
    chat = new_chat()
    replies = await answer(chat, "ca ouvre quand pour les non residents", "opening")
    text = plain(replies[0])
    assert "mardi 13 avril 2027, 19 h 00" in text and "mardi 20 avril 2027, 18 h 00" in text
    assert chat.slots["help_phone"] == "418 555-0199"
    assert chat.slots["help_hours"] == "du lundi au vendredi, de 8 h 30 à 16 h 30"


async def test_browser_and_password_answers_are_not_the_same(backend_url: str) -> None:
    chat = new_chat()
    browsers = plain((await answer(chat, "quel navigateur?", "browsers"))[0])
    password = plain((await answer(chat, "mdp oublie", "portal_password"))[0])
    assert "Windows XP" in browsers and "Chrome, Firefox, Edge ou Safari" in browsers
    assert "mot-de-passe-oublie" in password and "Windows XP" not in password


async def test_ages_and_schedules(backend_url: str) -> None:
    chat = new_chat()
    ages = plain((await answer(chat, "c'est pour quel age", "ages"))[0])
    assert "30 septembre 2027" in ages and "9 à 12 ans" in ages
    schedules = plain((await answer(chat, "c'est quel soir le soccer", "schedules"))[0])
    assert "8 mardis, 18 h 30" in schedules


async def test_a_price_inside_identification_then_the_same_question(backend_url: str) -> None:
    chat = new_chat()
    replies = await open_conversation(chat, "je veux inscrire ma fille")
    assert str(responses(replies)[-1]).startswith("utter_ask_id_client_number"), chat.dump()
    ask(chat, "avant, combien pour 3 semaines avec garde?", "price_total")
    assert await chat.run("validate_identification_form") == []  # the form rejects the turn
    assert chat.slots["id_client_number"] is None
    replies = await chat.run("action_answer_faq")
    assert responses(replies) == ["utter_faq/price_total"] and "405,00 $" in plain(replies[0])
    assert chat.events[-1] == {
        "event": "followup",
        "name": "identification_form",
        "timestamp": None,
    }, chat.dump()


async def test_the_fallback_names_the_familys_own_child(backend_url: str) -> None:
    chat = new_chat()
    await open_conversation(chat, "je veux inscrire mon enfant")
    await identify(chat, backend_url, "100002", "418 555-0102")
    chat.say("blablabla", "nlu_fallback", 0.3)
    replies = await chat.run("action_fallback")
    assert "« inscrire Emma au camp de jour »" in plain(replies[0]), chat.dump()
    stranger = new_chat()
    stranger.say("blablabla", "nlu_fallback", 0.3)
    assert "« inscrire Léa au camp de jour »" in plain((await stranger.run("action_fallback"))[0])


async def test_a_price_question_taken_for_a_registration_gets_the_price(backend_url: str) -> None:
    chat = new_chat()
    await chat.run("action_session_start")
    chat.say("2 sem de camp + garde ca revient a cb", "register")
    events_before = len(chat.events)
    await chat.run("action_prepare_registration")
    assert chat.events[-1]["event"] == "followup"
    assert chat.events[-1]["name"] == "action_answer_faq", chat.dump()
    assert len(chat.events) == events_before + 2  # the action, its follow-up: nothing kept
    replies = await chat.run("action_answer_faq")
    assert responses(replies) == ["utter_faq/price_total"] and "270,00 $" in plain(replies[0])
    assert chat.events[-1]["name"] == "action_listen"  # the turn ends on the answer
    assert chat.slots["pending_facts"] is None and not chat.slots["identified"]


async def test_a_question_on_the_terms_at_the_checkout_keeps_the_checkouts_answer(
    backend_url: str,
) -> None:
    from bot.actions.helpdesk_faq import about_the_checkout

    chat = new_chat()
    ask(chat, "accepter ca veut dire quoi", "terms_meaning")
    assert about_the_checkout(chat.tracker())
    ask(chat, "quel navigateur", "browsers")
    assert not about_the_checkout(chat.tracker())
    ask(chat, "je peux voir mon panier?", "hold")
    chat.latest_message["intent"] = {"name": "cart_view", "confidence": 0.9}
    assert not about_the_checkout(chat.tracker())  # only the faq intent's own pick counts


async def test_the_fallback_hands_a_sure_public_question_to_the_answer(backend_url: str) -> None:
    chat = new_chat()
    ask(chat, "cest quoi votre politique dannulation", "refunds")
    chat.latest_message["intent"] = {"name": "nlu_fallback", "confidence": 0.5}
    chat.latest_message["response_selector"]["faq"]["response"]["confidence"] = 0.98
    assert await chat.run("action_fallback") == []
    assert chat.events[-1]["name"] == "action_answer_faq"
    replies = await chat.run("action_answer_faq")
    # the demo city refunds up to the day before the start, without a fee (its file)
    assert responses(replies) == ["utter_faq/refunds"]
    assert "jusqu'à la veille du début" in plain(replies[0]) and "sans frais" in plain(replies[0])
    unsure = new_chat()
    ask(unsure, "asdfgh qwerty", "ages")
    unsure.latest_message["intent"] = {"name": "nlu_fallback", "confidence": 0.5}
    unsure.latest_message["response_selector"]["faq"]["response"]["confidence"] = 0.1
    assert responses(await unsure.run("action_fallback")) == ["utter_fallback"]
