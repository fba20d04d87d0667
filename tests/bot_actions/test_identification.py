"""Identification actions against the real backend: the code read from the demo outbox, wrong
codes with the tries left, the lock, nothing revealed about unknown client numbers, a pending
account, a season window not open yet for a non-resident."""

from __future__ import annotations

import re
import urllib.error

import pytest
from flows import identify, new_chat, open_conversation
from harness import cart, http_json, latest_code, outbox, responses, texts


async def test_code_from_the_outbox_identifies_julie_and_is_never_kept(backend_url: str) -> None:
    chat = new_chat()
    replies = await open_conversation(chat, "Bonjour, je veux inscrire un enfant")
    assert responses(replies)[-1] == "utter_ask_id_client_number_noted", chat.dump()
    assert "numéro de client" in replies[-1].text
    assert "je garde votre demande" in replies[-1].text  # the request was heard, not dropped

    replies = await chat.answer("100001")
    assert responses(replies)[-1] == "utter_ask_id_phone", chat.dump()
    replies = await chat.answer("418 555-0101")
    assert responses(replies)[-1] == "utter_ask_id_code"
    # the reply does not tell whether the file matched, nor where the code went
    assert "au téléphone ou au courriel inscrit au dossier" in replies[-1].text, chat.dump()
    assert "0101" not in replies[-1].text and "texto au" not in replies[-1].text

    code = latest_code(backend_url, "4185550101")
    replies = await chat.answer(code[:3] + " " + code[3:])  # "482 913" as phones show it
    assert responses(replies) == ["utter_identified"], chat.dump()
    assert "Julie Tremblay" in replies[0].text
    assert chat.slots["identified"] is True and chat.active_loop is None
    # neither the one-time code nor the family token lives in clear in any slot
    assert code not in repr(chat.slots)
    assert chat.token not in repr(chat.slots) and chat.slots["family_token"].startswith("enc1.")
    assert chat.slots["id_code"] == "ok"
    # and the token the actions got is a real family session: Julie's (empty) cart answers
    assert cart(backend_url, chat.token)["lines"] == []


async def test_unknown_client_number_gets_the_same_answer_and_no_code(backend_url: str) -> None:
    known, unknown = new_chat(), new_chat()
    for chat in (known, unknown):
        await open_conversation(chat, "je veux inscrire mon gars")
    before = len(outbox(backend_url))
    said_known = await known.answer("100002 418-555-0102")
    said_unknown = await unknown.answer("999999 418-555-0102")
    # same words either way: whether a client number exists is never revealed
    assert texts(said_known) == texts(said_unknown), known.dump() + "\n" + unknown.dump()
    assert responses(said_unknown) == ["utter_ask_id_code"]
    codes = [
        r for r in outbox(backend_url)[: len(outbox(backend_url)) - before] if r["kind"] == "otp"
    ]
    assert len(codes) == 1  # only the real file got a code


async def test_wrong_codes_tell_the_tries_left_then_lock(backend_url: str) -> None:
    chat = new_chat()
    await open_conversation(chat, "inscription camp de jour svp")
    await chat.answer("100002 pis 418-555-0102")
    real = latest_code(backend_url, "4185550102")
    wrong = "000000" if real != "000000" else "111111"

    left = []
    for _ in range(4):
        replies = await chat.answer(wrong)
        assert responses(replies) == ["utter_code_invalid"], chat.dump()
        left.append(replies[0].variables["attempts_left"])
        # the question is in the same message: the form does not ask a second time
        assert "Il vous reste" in replies[0].text and replies[0].text.endswith("?")
    assert left == [4, 3, 2, 1]
    assert "Il vous reste 1 essai(s)" in chat.transcript[-1]

    challenge = chat.slots["challenge_id"]
    replies = await chat.answer(wrong)
    assert responses(replies) == ["utter_code_locked"], chat.dump()
    assert (
        "bloquée" in replies[0].text and "418 555-0199" in replies[0].text
    )  # the city's help line
    assert chat.slots["id_code"] == "locked" and chat.active_loop is None
    replies = await chat.run("action_after_identification")
    assert chat.slots["can_register"] is False and chat.slots["family_token"] is None
    assert "utter_identified" not in responses(replies)
    # the backend locked the challenge: the right code does nothing now
    with pytest.raises(urllib.error.HTTPError) as refused:
        http_json(
            "POST", f"{backend_url}/api/identify/verify", {"challenge_id": challenge, "code": real}
        )
    assert refused.value.code == 423


async def test_code_not_received_is_resent(backend_url: str) -> None:
    chat = new_chat()
    await open_conversation(chat, "je veux inscrire ma fille")
    await chat.answer("100001 418-555-0101")
    first = latest_code(backend_url, "4185550101")
    chat.say("j'ai rien reçu", "resend_code")
    replies = await chat.run("action_resend_code")
    assert responses(replies) == ["utter_code_resent"], chat.dump()
    # the same words whatever the backend said: neither the channel nor the number
    assert "0101" not in replies[0].text and "au téléphone ou au courriel" in replies[0].text
    # the form goes on without asking again (ask_done), and the new code works
    replies = await chat.form_turn("identification_form")
    assert replies == [], chat.dump()
    second = latest_code(backend_url, "4185550101")
    replies = await chat.answer(second)
    assert responses(replies) == ["utter_identified"], chat.dump() + f"\nfirst={first}"


async def test_pending_account_is_told_kindly_and_cannot_register(backend_url: str) -> None:
    chat = new_chat()
    await open_conversation(chat, "Bonjour, je veux inscrire Noah au soccer")
    replies = await identify(chat, backend_url, "100003", "418-555-0103")
    assert responses(replies) == ["utter_identified", "utter_account_pending"], chat.dump()
    pending = replies[-1].text
    assert "en attente d'approbation" in pending and "courriel" in pending  # what happens next
    assert "418 555-0199" in pending
    assert chat.slots["can_register"] is False and chat.active_loop is None
    assert cart(backend_url, chat.token)["lines"] == []


async def test_non_resident_before_the_window_is_told_when_it_opens(backend_url: str) -> None:
    http_json("POST", f"{backend_url}/api/dev/clock", {"now": "2027-04-20T17:00:00"})
    try:
        chat = new_chat()
        await open_conversation(chat, "je veux inscrire Yasmine au camp")
        replies = await identify(chat, backend_url, "100004", "581-555-0104")
    finally:
        http_json("POST", f"{backend_url}/api/dev/clock", {"now": "2027-04-20T19:00:00"})
    assert responses(replies) == ["utter_identified", "utter_not_open"], chat.dump()
    # non-residents open on 20 April at 18 h, city time
    assert "mardi 20 avril 2027, 18 h 00" in replies[-1].text, replies[-1].text
    assert chat.slots["can_register"] is False
    assert not re.search(r"\{\w+\}", replies[-1].text)


async def test_client_number_in_the_first_message_is_not_asked_again(backend_url: str) -> None:
    chat = new_chat()
    replies = await open_conversation(
        chat, "allo, mon numéro de client c'est 100001, je veux inscrire Léa"
    )
    assert responses(replies)[-1] == "utter_ask_id_phone", chat.dump()
    assert chat.slots["id_client_number"] == "100001"
    await chat.answer("418 555-0101")
    replies = await chat.answer(latest_code(backend_url, "4185550101"))
    assert responses(replies) == ["utter_identified"], chat.dump()
    assert "Julie Tremblay" in replies[0].text
    # an age or a year in the first message is not a client number
    other = new_chat()
    replies = await open_conversation(other, "je veux inscrire Léa, elle est née en 2018")
    assert responses(replies)[-1] == "utter_ask_id_client_number_noted", other.dump()


async def test_wrong_client_number_corrected_before_the_code(backend_url: str) -> None:
    chat = new_chat()
    await open_conversation(chat, "je veux inscrire mes enfants")
    replies = await chat.answer("100009")
    assert responses(replies)[-1] == "utter_ask_id_phone", chat.dump()
    replies = await chat.answer("oups je me suis trompé, c'est 100001")
    assert responses(replies) == ["utter_client_number_corrected", "utter_ask_id_phone"], (
        chat.dump()
    )
    assert "100001" in replies[0].text and chat.slots["id_client_number"] == "100001"
    await chat.answer("418-555-0101")
    replies = await chat.answer(latest_code(backend_url, "4185550101"))
    assert responses(replies) == ["utter_identified"], chat.dump()


async def test_wrong_client_number_corrected_while_the_code_is_asked(backend_url: str) -> None:
    chat = new_chat()
    await open_conversation(chat, "inscription au soccer")
    await chat.answer("100009 pis 418-555-0102")  # not Marc's file: no code goes
    first = chat.slots["challenge_id"]
    replies = await chat.answer("000000")
    assert (
        responses(replies) == ["utter_code_invalid"] and replies[0].variables["attempts_left"] == 4
    ), chat.dump()

    replies = await chat.answer("je me suis trompé, c'est 100002")
    # a new challenge for the right number; the digits were not tried as a code
    assert responses(replies) == ["utter_client_number_corrected", "utter_ask_id_code"], chat.dump()
    assert chat.slots["challenge_id"] not in (None, first)
    assert chat.slots["id_client_number"] == "100002"
    replies = await chat.answer(
        "111111" if latest_code(backend_url, "4185550102") != "111111" else "222222"
    )
    # the corrected challenge starts with all its tries: the correction counted for none
    assert replies[0].variables["attempts_left"] == 4, chat.dump()
    replies = await chat.answer(latest_code(backend_url, "4185550102"))
    assert responses(replies) == ["utter_identified"], chat.dump()


async def test_thanks_and_hello_inside_identification_ask_the_same_question(
    backend_url: str,
) -> None:
    chat = new_chat()
    await open_conversation(chat, "je veux inscrire ma fille")
    replies = await chat.answer("merci", "thank")
    assert responses(replies) == ["utter_thank_in_form", "utter_ask_id_client_number_noted"], (
        chat.dump()
    )
    replies = await chat.answer("bonjour", "greet")
    assert responses(replies) == ["utter_greet_in_form", "utter_ask_id_client_number_noted"]
    assert chat.slots["repair_level"] == 0.0  # no step on the repair ladder


async def test_a_new_phone_while_the_code_is_asked_is_not_tried_as_a_code(
    backend_url: str,
) -> None:
    chat = new_chat()
    await open_conversation(chat, "je veux inscrire ma fille au camp")
    await chat.answer("100001 418-555-0199")  # not the phone on file: no code goes
    first = chat.slots["challenge_id"]
    replies = await chat.answer("oups c'est le 418 555-0101")
    assert responses(replies) == ["utter_ask_id_code"], chat.dump()
    assert (
        chat.slots["challenge_id"] not in (None, first) and chat.slots["id_phone"] == "4185550101"
    )
    replies = await chat.answer(latest_code(backend_url, "4185550101"))
    assert responses(replies) == ["utter_identified"], chat.dump()
