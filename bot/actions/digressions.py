"""Small talk inside the identification and checkout forms: "merci", "bonjour", "ok pis là ?"
are acknowledged and the same question comes back, without a step on the repair ladder."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from . import parsing
from .turns import latest_intent, latest_text

# intent → the acknowledgement said before the question comes back (None: only the question)
SMALL_TALK = {"greet": "utter_greet_in_form", "thank": "utter_thank_in_form", "continue": None}
_READ = {parsing.Continuation.THANKS: "thank", parsing.Continuation.CONTINUE: "continue"}


def small_talk(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType] | None:
    """Events that keep the question where it is, or None when the message is not small talk.
    They set a slot, so the form does not reject the turn and asks its question again."""
    said = parsing.read_continue(latest_text(tracker))
    name, confidence = latest_intent(tracker)
    if said is not None:
        name = _READ[said]
    elif name not in SMALL_TALK or confidence < 0.6:
        return None
    response = SMALL_TALK[name]
    if response:
        dispatcher.utter_message(response=response)
    return [SlotSet("repair_level", float(tracker.get_slot("repair_level") or 0))]
