"""The stop intent against the words, and a correction with nothing to correct, against the real
backend (demo city): « ça va être toute » after the cart starts the checkout instead of stopping,
« annule ça » still stops, and « en fait juste le soccer pour Thomas » with nothing just added is
a registration, not « Que voulez-vous corriger ? »."""

from __future__ import annotations

import re

from flows import new_chat
from harness import Chat, http_json, latest_code, responses

from bot.actions.session import identified_events


def identified_chat(base_url: str) -> Chat:
    started = http_json(
        "POST",
        f"{base_url}/api/identify/start",
        {"client_number": "100001", "phone": "418-555-0101"},
    )
    code = latest_code(base_url, re.sub(r"\D", "", "418-555-0101"))
    session = http_json(
        "POST",
        f"{base_url}/api/identify/verify",
        {"challenge_id": started["challenge_id"], "code": code},
    )
    chat = new_chat()
    for event in identified_events(session, chat.sender):
        chat.slots[event["name"]] = event["value"]
    return chat


def followups(chat: Chat) -> list[str]:
    return [e["name"] for e in chat.events if e.get("event") == "followup"]


async def test_stop_words_decide_the_stop(backend_url: str) -> None:
    chat = new_chat()
    chat.slots["awaiting"] = "next_step"
    chat.say("ca va etre toute", "stop")
    replies = await chat.run("action_stop")
    assert responses(replies) == [], chat.dump()
    assert followups(chat) == ["action_start_checkout"]

    # words that neither stop nor say "that is all", at the same question: asked again,
    # nothing dropped
    chat.slots["awaiting"] = "next_step"
    chat.say("hmm chai pas trop", "stop")
    replies = await chat.run("action_stop")
    assert responses(replies) == ["utter_ask_next_step_again"], chat.dump()
    assert chat.slots["awaiting"] == "next_step"

    chat.say("annule ca finalement", "stop")
    replies = await chat.run("action_stop")
    assert responses(replies) == ["utter_stopped"], chat.dump()
    assert chat.slots["awaiting"] is None


async def test_a_correction_with_nothing_added_naming_an_activity_registers(
    backend_url: str,
) -> None:
    chat = identified_chat(backend_url)
    chat.say("en fait juste le soccer pour thomas", "correct")
    replies = await chat.run("action_correct")
    assert responses(replies) == [], chat.dump()
    assert followups(chat) == ["action_prepare_registration"]

    chat.say("en fait je me suis trompe", "correct")
    replies = await chat.run("action_correct")
    assert responses(replies) == ["utter_correction_unclear"], chat.dump()
