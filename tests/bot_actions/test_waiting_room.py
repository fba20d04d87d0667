"""Registration night in the conversation, against the real backend (demo city): a cart change
refused because the family is not admitted takes its place in line and says its number and
wait, keeping the draft; « c'est quand mon tour? » gives the place again, or before the opening
says when the line is drawn."""

from __future__ import annotations

import re

from flows import fill_form, open_conversation, registration_done
from harness import http_json, responses, staff_headers, texts
from test_helpdesk_state import family_call, identified_chat

from bot.actions.draft import SLOTS

PLACE = re.compile(
    r"Vous êtes le numéro (\d+) ; attente estimée : [^.]+\. "
    r"Je vous écris dès que c'est votre tour\."
)


def open_rush(base_url: str, opens_at: str, rate: float, cap: int) -> int:
    season = http_json("GET", f"{base_url}/api/season")
    rush = http_json(
        "POST",
        f"{base_url}/api/staff/rushes",
        {"season_id": season["id"], "opens_at": opens_at, "rate_per_minute": rate, "cap": cap},
        staff_headers(base_url),
    )
    return int(rush["id"])


def close_rush(base_url: str, rush_id: int) -> None:
    http_json("POST", f"{base_url}/api/staff/rushes/{rush_id}/close", {}, staff_headers(base_url))


async def test_before_the_opening_the_parent_hears_when_the_line_is_drawn(backend_url: str) -> None:
    rush_id = open_rush(backend_url, "2027-04-20T21:30:00", rate=10, cap=5)
    try:
        chat = identified_chat(backend_url, "100003", "418-555-0103")
        chat.say("c'est quand mon tour?", "waiting_room_position")
        replies = await chat.run("action_helpdesk_state")
        assert responses(replies) == ["utter_waiting_room_pre_queue"], chat.dump()
        said = texts(replies)
        assert "tiré au hasard à l'ouverture, mardi 20 avril 2027, 21 h 30" in said, said
        assert "Je vous écris dès que c'est votre tour." in said
        place = family_call(backend_url, chat, "GET", "/api/waiting-room/me")
        assert place["status"] == "waiting" and place["rush"]["phase"] == "pre_queue"
    finally:
        close_rush(backend_url, rush_id)


async def test_a_refused_registration_takes_a_place_and_keeps_the_draft(backend_url: str) -> None:
    rush_id = open_rush(backend_url, "2027-04-20T18:00:00", rate=1, cap=1)
    try:
        http_json(
            "POST", f"{backend_url}/api/staff/rushes/{rush_id}/simulate", {"families": 2},
            staff_headers(backend_url),
        )
        chat = identified_chat(backend_url, "100004", "581-555-0104")
        await open_conversation(
            chat, "je veux inscrire Yasmine au camp de jour aux Erables semaine 4"
        )
        await fill_form(chat, {
            "reg_child": "Yasmine",
            "reg_program": "camp de jour",
            "reg_group": "celui des erables",
            "reg_weeks": "la semaine 4",
            "reg_options": "non merci",
            "reg_tshirt": "M",
            "reg_waitlist": "oui",
        })
        draft = {name: chat.slots.get(name) for name in SLOTS}
        replies = await registration_done(chat)
        assert responses(replies) == [
            "utter_waiting_room_place", "utter_waiting_room_draft_kept"
        ], chat.dump()
        number = int(PLACE.search(texts(replies)).group(1))  # type: ignore[union-attr]
        assert number >= 2  # the simulated families came first
        assert {name: chat.slots.get(name) for name in SLOTS} == draft  # nothing lost
        cart = family_call(backend_url, chat, "GET", "/api/cart")
        assert cart["lines"] == []  # nothing added while waiting

        chat.say("je suis rendu à quel numéro?", "waiting_room_position")
        replies = await chat.run("action_helpdesk_state")
        assert responses(replies) == ["utter_waiting_room_place"], chat.dump()
        assert int(PLACE.search(texts(replies)).group(1)) <= number  # type: ignore[union-attr]
    finally:
        close_rush(backend_url, rush_id)
