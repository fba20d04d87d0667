"""The steps bot/data/rules.yml chains between forms, played on a harness Chat."""

from __future__ import annotations

import uuid

from harness import Chat, Reply, latest_code, responses


def new_chat() -> Chat:
    return Chat(sender=f"actions-{uuid.uuid4().hex[:10]}")


async def open_conversation(chat: Chat, text: str, intent: str = "register") -> list[Reply]:
    """The first message: session start, then "register starts or feeds a registration"."""
    replies = await chat.run("action_session_start")
    chat.say(text, intent)
    replies += await chat.run("action_prepare_registration")
    if chat.slots["identified"]:
        return replies + await after_identification(chat)
    return replies + await chat.form_turn("identification_form")


async def after_identification(chat: Chat) -> list[Reply]:
    """Rules "identification done" → "account can/cannot register"."""
    replies = await chat.run("action_after_identification")
    if chat.slots["can_register"]:
        replies += await chat.form_turn("registration_form")
    return replies


async def identify(chat: Chat, base_url: str, client: str, phone: str) -> list[Reply]:
    """Client number and phone in one message, then the code read from the demo outbox."""
    replies = await chat.answer(f"mon numéro de client c'est {client} pis mon tel {phone}")
    assert responses(replies)[-1] == "utter_ask_id_code", chat.dump()
    code = latest_code(base_url, "".join(c for c in phone if c.isdigit()))
    replies = await chat.answer(code)
    assert chat.active_loop is None, chat.dump()
    return replies + await after_identification(chat)


async def registration_done(chat: Chat) -> list[Reply]:
    """Rule "registration done: add to cart"."""
    assert chat.active_loop is None, chat.dump()
    return await chat.run("action_add_to_cart")


async def start_checkout(chat: Chat, text: str, intent: str = "checkout") -> list[Reply]:
    """Rules "checkout asked" → "cart ready for checkout" (the form asks its first question)."""
    chat.say(text, intent)
    replies = await chat.run("action_start_checkout")
    if chat.slots["checkout_ready"]:
        replies += await chat.form_turn("checkout_form")
    return replies


async def fill_form(chat: Chat, answers: dict[str, str]) -> tuple[list[Reply], list[str]]:
    """Answers each question of the active form from `answers` (by slot) until the form ends;
    returns the replies and the slots asked, in order. A question not in `answers` fails."""
    replies: list[Reply] = []
    asked: list[str] = []
    while chat.active_loop:
        slot = chat.slots["requested_slot"]
        assert slot in answers, f"unexpected question for {slot}:\n{chat.dump()}"
        assert asked.count(slot) < 2, f"{slot} asked a third time:\n{chat.dump()}"
        asked.append(slot)
        text = answers[slot]
        replies += await chat.answer(text, "affirm" if text.lower().startswith("oui") else "inform")
    return replies, asked
