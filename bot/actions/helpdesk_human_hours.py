"""The help desk's hours as the parent hears them: the line while a person answers it, the
next opening and a callback offer while nobody does (the structured summary of where the
conversation stands goes with it)."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from . import helpdesk_human_client as desk
from .backend_client import BackendError
from .formatting import local_datetime

log = logging.getLogger(__name__)

# Which step of which form the parent had reached: the callback's summary, from a fixed list.
STEP_OF_SLOT = {
    "id_client_number": "identification",
    "id_phone": "identification",
    "id_code": "identification",
    "reg_child": "child",
    "reg_program": "activity",
    "reg_group": "group",
    "reg_weeks": "weeks",
    "reg_options": "options",
    "reg_tshirt": "tshirt",
    "reg_waitlist": "waitlist",
    "pay_installments": "checkout",
    "pay_accept": "checkout",
}
TOPIC_OF_STEP = {"identification": "identification", "checkout": "payment", "none": "other"}


def summary_events(tracker: Tracker) -> list[EventType]:
    """The topic and step of a callback, from where the conversation stands."""
    step = STEP_OF_SLOT.get(str(tracker.get_slot("requested_slot") or ""), "none")
    if step == "none" and tracker.get_slot("reg_program"):
        step = "activity"
    topic = TOPIC_OF_STEP.get(step, "registration")
    return [SlotSet("hd_topic", topic), SlotSet("hd_step", step)]


async def help_desk_or_none() -> dict[str, Any] | None:
    try:
        return await desk.help_desk()
    except BackendError as err:
        log.warning("help desk hours unavailable: %s", err.code)
        return None


def next_opening_text(status: dict[str, Any]) -> str:
    when = status.get("next_opening_at")
    return local_datetime(str(when)) if when else ""


async def closing_offer(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    *,
    open_response: str,
    closed_response: str,
    offer: bool = True,
) -> list[EventType]:
    """The help line while someone answers it; else its next opening, and (outside a form
    that keeps asking) a callback offered: the parent's « oui » starts callback_form."""
    status = await help_desk_or_none()
    if status is None or status.get("open") or not status.get("next_opening_at"):
        dispatcher.utter_message(response=open_response)
        return []
    dispatcher.utter_message(response=closed_response, next_opening=next_opening_text(status))
    if not offer:
        return []
    # « oui » now answers the callback offer, not a question asked before it.
    return [SlotSet("callback_offered", True), SlotSet("awaiting", None), *summary_events(tracker)]
