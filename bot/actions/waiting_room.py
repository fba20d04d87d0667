"""The waiting room of registration night in the conversation: a cart change refused with
`waiting_room` takes the family's place in line (the draft is kept for « continuer »), and
« c'est quand mon tour ? » gives the place again. The backend keeps the line and the admission
(its `rush_entry`); the conversation id sent with the join is where the backend pushes the
admission message (docs/BOT.md "Waiting room")."""

from __future__ import annotations

import logging
from typing import Any

from babel.numbers import format_decimal
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from .backend_client import BackendError, backend
from .formatting import LOCALE, fragment, local_datetime

log = logging.getLogger(__name__)

# The channels the backend can push an admission message to, by conversation id prefix
# (bot/conversation_keys.py): the open web chat; a texting parent gets the SMS to the phone.
CHANNELS = {"web": "web", "sms": "sms"}


def notify_target(sender_id: str) -> dict[str, str]:
    """The conversation to notify at admission, when it is one of ours (never a phone)."""
    kind, _, rest = sender_id.partition("_")
    if kind in CHANNELS and rest:
        return {"conversation": sender_id, "channel": CHANNELS[kind]}
    return {}


def wait_text(domain: DomainDict, minutes: int) -> str:
    if minutes <= 0:
        return fragment(domain, "utter_fragment_wait_now")
    if minutes == 1:
        return fragment(domain, "utter_fragment_wait_one")
    return fragment(
        domain, "utter_fragment_wait_minutes", minutes=format_decimal(minutes, locale=LOCALE)
    )


def tell_place(dispatcher: CollectingDispatcher, domain: DomainDict, place: dict[str, Any]) -> None:
    """The family's place as the parent reads it."""
    status = place.get("status")
    rush = place.get("rush") or {}
    position = place.get("position")
    if status == "admitted" or (status != "waiting" and not place.get("admission_required")):
        response = "utter_waiting_room_admitted" if status == "admitted" else None
        dispatcher.utter_message(response=response or "utter_waiting_room_none")
    elif position is None:
        opens = rush.get("opens_at")
        dispatcher.utter_message(
            response="utter_waiting_room_pre_queue",
            opens_at=local_datetime(opens) if opens else "",
        )
    elif place.get("estimated_wait_minutes") is None:
        dispatcher.utter_message(
            response="utter_waiting_room_paused", position=format_decimal(position, locale=LOCALE)
        )
    else:
        dispatcher.utter_message(
            response="utter_waiting_room_place",
            position=format_decimal(position, locale=LOCALE),
            wait=wait_text(domain, int(place["estimated_wait_minutes"])),
        )


async def join_and_tell(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, token: str
) -> bool:
    """Take (or get back) the family's place and say it; False when no line could be joined
    (no rush running, or the backend unreachable: the caller says what happened)."""
    try:
        place = await backend.join_waiting_room(token, notify_target(tracker.sender_id))
    except BackendError as err:
        if err.code == "no_waiting_room":
            dispatcher.utter_message(response="utter_waiting_room_none")
            return True
        log.warning("waiting room unavailable: %s", err.code)
        return False
    tell_place(dispatcher, domain, place)
    return True
