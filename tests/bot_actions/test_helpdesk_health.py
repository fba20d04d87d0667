"""« La fiche santé » in the actions, against the real backend: a parent not identified hears
what the fiche is and is identified first, then gets one personal link per child (which opens
that child's form); by texto the bot says why the fiche is not taken there and gives the links
for a browser; health details never reach a slot, nor does a link."""

from __future__ import annotations

import json
import re
import urllib.request

from flows import identify, new_chat
from harness import Chat, responses

LINK = re.compile(r"https?://\S+/sante/h1\.\S+")


async def _start(chat: Chat, text: str) -> list[str]:
    await chat.run("action_session_start")
    chat.say(text, "faq_fiche_sante")
    return responses(await chat.run("action_health_link"))


async def test_a_parent_is_identified_first_then_gets_each_childs_link(backend_url: str) -> None:
    chat = new_chat()
    assert await _start(chat, "c'est où qu'on remplit la fiche sante de ma fille") == [
        "utter_faq_fiche_sante"
    ]
    assert chat.slots["health_asked"] is True
    await chat.form_turn("identification_form")  # rule "fiche santé: identify first"
    await identify(chat, backend_url, "100001", "418-555-0101")
    # Rule "fiche santé: the links once identified" (instead of the registration).
    replies = await chat.run("action_health_link")
    assert responses(replies) == ["utter_health_links_web"], chat.dump()
    text = replies[0].text
    assert "Léa (déjà remplie, pour la mettre à jour) :" in text and "• Thomas :" in text
    links = LINK.findall(text)
    assert len(links) == 2
    thomas = next(line for line in text.splitlines() if "Thomas" in line).split(" : ")[1]
    page = urllib.request.urlopen(thomas, timeout=10).read().decode("utf-8")
    assert "Fiche santé de Thomas" in page
    assert chat.slots["health_asked"] is False
    kept = json.dumps(chat.slots, ensure_ascii=False, default=str)
    assert "/sante/" not in kept and "Arachides" not in kept


async def test_by_texto_the_bot_says_why_and_gives_the_links_for_a_browser(
    backend_url: str,
) -> None:
    chat = new_chat()
    await chat.run("action_session_start")
    chat.say("je veux inscrire mon gars", "register")
    await chat.run("action_prepare_registration")
    await chat.form_turn("identification_form")
    await identify(chat, backend_url, "100002", "418-555-0102")
    chat.active_loop = None
    chat.say("fiche sante", "faq_fiche_sante")
    chat.events[-1]["input_channel"] = "twilio_sms"
    replies = await chat.run("action_health_link")
    assert responses(replies) == ["utter_health_links_sms"], chat.dump()
    assert "pas la fiche santé par texto" in replies[0].text
    assert "navigateur" in replies[0].text and LINK.search(replies[0].text)


async def test_an_identification_that_fails_ends_with_the_help_line_not_a_loop(
    backend_url: str,
) -> None:
    chat = new_chat()
    assert await _start(chat, "fiche medicale") == ["utter_faq_fiche_sante"]
    # The identification form ended without a family (a locked code, for one).
    replies = await chat.run("action_health_link")
    assert responses(replies) == ["utter_health_not_identified"]
    assert chat.slots["health_asked"] is False
    assert "418 555-0199" in replies[0].text
