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

from . import parsing
from .draft import State
from .helpdesk_faq import confident_answer
from .helpdesk_faq_examples import example_child
from .reading.cancelling import cancels_a_registration
from .reading.stopping import asks_to_stop, says_done
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


def nothing_more(tracker: Tracker) -> list[EventType] | None:
    """ "ça va être toute" at the next-step question: the parent is done adding, so the
    checkout starts (it is not an « arrêter », whatever the model makes of it)."""
    if tracker.get_slot("awaiting") != "next_step" or not parsing.read_done(latest_text(tracker)):
        return None
    return [SlotSet("awaiting", None), FollowupAction("action_start_checkout")]


def last_form(tracker: Tracker) -> str | None:
    """The form the parent was in last (the one « continuer » goes back to first)."""
    for event in reversed(tracker.events):
        if event.get("event") == "active_loop" and event.get("name"):
            return str(event["name"])
    return None


def where_to_resume(tracker: Tracker) -> str:
    if tracker.get_slot("checkout_ready") and last_form(tracker) == "checkout_form":
        return "checkout"
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
        done = nothing_more(tracker)
        if done is not None:
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
    """« annuler », « arrêter » outside a form: the pending question is dropped too.

    The model's "stop" is taken only when the words ask to stop: "ça va être toute" after the
    cart says the parent is done adding, so the checkout starts; other words drop nothing.
    """

    def name(self) -> str:
        return "action_stop"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        done = nothing_more(tracker)
        if done is not None:
            return done
        text = latest_text(tracker)
        if text and cancels_a_registration(text):
            # « annuler l'inscription de mon fils »: a registration to cancel, not a stop
            return [FollowupAction("action_helpdesk_cancel")]
        if text and not asks_to_stop(text):
            at_next_step = tracker.get_slot("awaiting") == "next_step"
            if at_next_step and says_done(text):
                return [FollowupAction("action_start_checkout")]
            # nothing is dropped: the pending question again, or what the bot can do
            if at_next_step:
                dispatcher.utter_message(response="utter_ask_next_step_again")
            else:
                child = await example_child(tracker, domain)
                dispatcher.utter_message(response="utter_fallback", example_child=child)
            return []
        dispatcher.utter_message(response="utter_stopped")
        return [SlotSet("awaiting", None), SlotSet("numbered_choices", None)]


class ActionFallback(Action):
    """A message the model could not place: too long to read, or not understood."""

    def name(self) -> str:
        return "action_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        done = nothing_more(tracker)
        if done is not None:
            return done
        if parsing.read_continue(latest_text(tracker)) is parsing.Continuation.CONTINUE:
            # « ok pis là ? »: words that only ask to go on, whatever the model made of them;
            # the conversation goes on from where it was
            return [FollowupAction("action_continue")]
        if too_long(latest_text(tracker)):
            dispatcher.utter_message(response="utter_too_long")
        elif cancels_a_registration(latest_text(tracker)):
            # « faut j'annule la semaine 2 de Léa », not understood as a whole: a cancellation
            return [FollowupAction("action_helpdesk_cancel")]
        elif confident_answer(tracker):
            return [FollowupAction("action_answer_faq")]
        else:
            child = await example_child(tracker, domain)
            dispatcher.utter_message(response="utter_fallback", example_child=child)
        return []
