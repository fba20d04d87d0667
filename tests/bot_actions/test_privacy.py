"""What the conversation keeps about a family (the slots live in the tracker store): the family
token only sealed for this conversation, parsed facts instead of the parent's words, and a
sign-out that ends the backend session and forgets the family."""

from __future__ import annotations

import json
import urllib.error

import pytest
from flows import identify, new_chat, open_conversation
from harness import Chat, cart, responses

from bot.actions.backend_client import backend

FIRST = (
    "Bonjour, je voudrais inscrire Léa au camp de jour au parc de la Rivière, semaines 2 à 4, "
    "avec service de garde. Elle a le TDAH et prend du Ritalin le midi"
)


def slot_dump(chat: Chat) -> str:
    return json.dumps(chat.slots, ensure_ascii=False, default=str).lower()


async def test_the_token_slot_is_sealed_for_this_conversation_only(backend_url: str) -> None:
    chat = new_chat()
    await open_conversation(chat, "je veux inscrire mon gars")
    await identify(chat, backend_url, "100002", "418-555-0102")
    sealed = chat.slots["family_token"]
    assert sealed.startswith("enc1.") and chat.token not in slot_dump(chat)
    assert cart(backend_url, chat.token)["lines"] == []  # the sealed value opens to a live token

    # the same slots copied into another conversation (a dump replayed) identify nobody
    thief = new_chat()
    thief.slots.update(chat.slots)
    replies = await thief.run("action_after_identification")
    assert responses(replies) == ["utter_not_identified"], thief.dump()
    assert thief.slots["can_register"] is False


async def test_facts_are_kept_parsed_without_the_parents_words(backend_url: str) -> None:
    chat = new_chat()
    replies = await open_conversation(chat, FIRST)
    assert responses(replies)[-1] == "utter_ask_id_client_number_noted", chat.dump()
    kept = json.loads(chat.slots["pending_facts"])
    assert kept["names"] == ["Léa"] and kept["weeks"] == [2, 3, 4]
    assert kept["options"] == {"garde": True} and isinstance(kept["program"], int)
    dump = slot_dump(chat)
    for word in ("tdah", "ritalin", "midi", "bonjour", "voudrais", "inscrire"):
        assert word not in dump, word

    # a fact given while the form asks for the client number is parsed the same way
    await chat.answer("elle est allergique aux arachides, taille M")
    assert "allergique" not in slot_dump(chat) and "arachides" not in slot_dump(chat)
    assert json.loads(chat.slots["pending_facts"])["tshirt"] == "M"

    # once identified, every fact was applied: only the T-shirt question is left
    replies = await identify(chat, backend_url, "100001", "418-555-0101")
    assert responses(replies)[0] == "utter_identified", chat.dump()
    assert chat.slots["reg_weeks"] == [2, 3, 4] and chat.slots["reg_options"] == {"garde": None}
    assert chat.slots["pending_facts"] is None


async def test_no_slot_ever_holds_what_the_parent_wrote(backend_url: str) -> None:
    chat = new_chat()
    said = [FIRST]
    await open_conversation(chat, FIRST)
    for text in ("mon numéro de client c'est 100001", "mon tel 418 555-0101"):
        said.append(text)
        await chat.answer(text)
    dump = slot_dump(chat)
    for text in said:
        assert text.lower() not in dump, text
        # nor any three words in a row of it
        words = text.lower().replace(",", " ").split()
        for i in range(len(words) - 2):
            assert " ".join(words[i : i + 3]) not in dump, words[i : i + 3]


async def test_signing_out_ends_the_session_and_forgets_the_family(backend_url: str) -> None:
    chat = new_chat()
    await open_conversation(chat, "inscrire Léa au camp de jour semaines 2 à 4")
    await identify(chat, backend_url, "100001", "418-555-0101")
    assert chat.active_loop == "registration_form"
    token = chat.token
    await backend.family(token)  # now in the action server's cache
    assert any(key[1] == token for key in backend._cache)

    chat.active_loop = None  # the rule "sign out inside registration_form" deactivates it
    chat.say("déconnectez-moi", "sign_out")
    replies = await chat.run("action_sign_out")
    assert responses(replies) == ["utter_signed_out"], chat.dump()
    assert "session est fermée" in replies[0].text

    assert chat.slots["identified"] is False and chat.slots["family_token"] is None
    for name in ("payer_name", "reg_child", "reg_weeks", "reg_program", "last_lines"):
        assert chat.slots[name] is None, name
    assert not any(key[1] == token for key in backend._cache)
    # the backend refuses the token now: a copy of it is worthless
    with pytest.raises(urllib.error.HTTPError) as refused:
        cart(backend_url, token)
    assert refused.value.code == 401
    assert json.loads(refused.value.read())["error"]["code"] == "unauthorized"

    # the parent can identify again and register, with a new session
    replies = await open_conversation(chat, "je veux inscrire Thomas")
    assert responses(replies)[-1] == "utter_ask_id_client_number_noted", chat.dump()
    await identify(chat, backend_url, "100001", "418-555-0101")
    assert chat.token != token and cart(backend_url, chat.token)["lines"] == []


async def test_not_me_closes_the_session_and_says_so(backend_url: str) -> None:
    chat = new_chat()
    await open_conversation(chat, "je veux inscrire mon gars")
    await identify(chat, backend_url, "100002", "418-555-0102")
    token = chat.token
    chat.active_loop = None
    chat.say("c'est pas moi ça", "not_me")
    replies = await chat.run("action_sign_out")
    assert responses(replies) == ["utter_signed_out_not_me"], chat.dump()
    assert "votre propre numéro de client" in replies[0].text
    with pytest.raises(urllib.error.HTTPError):
        cart(backend_url, token)

    # saying it again, with nothing open, gets a plain answer
    chat.say("déconnexion", "sign_out")
    replies = await chat.run("action_sign_out")
    assert responses(replies) == ["utter_no_session"], chat.dump()
