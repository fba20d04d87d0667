"""Where « continuer », « ok pis là ? », « annuler » and an unreadable message take the parent.

« continuer » resumes the step the parent was at: the registration draft if one is started,
the checkout if its questions were interrupted, the identification if the family is not
known yet; after the cart it asks the next step again. It never starts a new registration
over a draft or a cart waiting for an answer.
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from .draft import State
from .reading.next_step import says_done
from .turns import latest_text, too_long


def asked_again_last_turn(tracker: Tracker) -> bool:
    """The previous turn was already « continuer » at the next-step question."""
    seen_user = False
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            if seen_user:
                return False
            seen_user = True
        elif kind == "action" and seen_user and event.get("name") != "action_listen":
            return event.get("name") == "action_continue"
    return False


def done_at_next_step(tracker: Tracker) -> list[EventType]:
    """ "Ça va être toute" at the next-step question, whatever the model took it for
    (a stop, a yes, a message it could not place): the order is next."""
    if tracker.get_slot("awaiting") == "next_step" and says_done(latest_text(tracker)):
        return [FollowupAction("action_start_checkout")]
    return []


def where_to_resume(tracker: Tracker) -> str:
    if State.from_tracker(tracker).started:
        return "registration"
    if tracker.get_slot("checkout_ready"):
        return "checkout"
    if tracker.get_slot("awaiting") == "next_step":
        return "next_step"
    if not tracker.get_slot("identified"):
        return "identification"
    return "registration"


class ActionContinue(Action):
    def name(self) -> str:
        return "action_continue"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        done = done_at_next_step(tracker)
        if done:
            return done
        resume = where_to_resume(tracker)
        if resume == "next_step":
            # the question again, worded otherwise when it was just asked alone
            again = asked_again_last_turn(tracker)
            dispatcher.utter_message(
                response="utter_ask_next_step_again" if again else "utter_ask_next_step"
            )
        return [SlotSet("resume", resume)]


class ActionStop(Action):
    """« annuler », « arrêter » outside a form: the pending question is dropped too."""

    def name(self) -> str:
        return "action_stop"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        done = done_at_next_step(tracker)
        if done:
            return done
        dispatcher.utter_message(response="utter_stopped")
        return [SlotSet("awaiting", None), SlotSet("numbered_choices", None)]


class ActionFallback(Action):
    """A message the model could not place: too long to read, or not understood."""

    def name(self) -> str:
        return "action_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        done = done_at_next_step(tracker)
        if done:
            return done
        if too_long(latest_text(tracker)):
            dispatcher.utter_message(response="utter_too_long")
        else:
            dispatcher.utter_message(response="utter_fallback")
        return []
