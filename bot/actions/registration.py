"""Registration: the form that fills the draft (child, activity, group, weeks, options,
T-shirt, waitlist consent), and the steps before it (facts kept, identification checked).

Each turn: the message is read into the draft (resolve.py), what follows is filled in
(resolve.complete), and the step is the draft's first missing fact (draft.next_step), which
the validator hands to the form as `requested_slot`, so the turn ends with that step's
question (questions.py). Small talk keeps the step; misses climb the repair ladder
(asking.py) and the third one hands off to the help line and releases the form, the draft
kept for « continuer ».
"""

from __future__ import annotations

import copy
import logging

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from . import facts, questions  # noqa: F401 - questions registers the action_ask_reg_* actions
from .asking import LAST_RUNG, chosen_by_number, repair_level
from .backend_client import BackendError, backend
from .context import load
from .draft import SLOTS, Message, State, clear_registration, next_step
from .formatting import local_datetime
from .helpdesk_faq_quote import public_question
from .helpdesk_human_hours import closing_offer
from .resolve import complete, resolve
from .session import family_token
from .turns import (
    activating,
    is_interruption,
    latest_text,
    new_user_turn,
    small_talk,
    too_long,
)

__all__ = ["SLOTS", "State", "clear_registration", "next_step"]

log = logging.getLogger(__name__)

SMALL_TALK_RESPONSES = {"thank": "utter_thank_in_form", "greet": "utter_greet_in_form"}


class ValidateRegistrationForm(FormValidationAction):
    def name(self) -> str:
        return "validate_registration_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        starting = activating(tracker, "registration_form")
        if not starting and not new_user_turn(tracker):
            return []
        token = family_token(tracker)
        if not token:
            return []
        try:
            ctx = await load(token)
        except BackendError as err:
            log.warning("family/catalog unavailable: %s", err.code)
            dispatcher.utter_message(response="utter_backend_error")
            return [SlotSet("ask_done", True)] if not starting else [SlotSet("pending_facts", None)]
        state = State.from_tracker(tracker)
        before = copy.deepcopy(state.as_slots())
        requested = None if starting else tracker.get_slot("requested_slot")
        if starting:
            text = facts.as_text(tracker.get_slot("pending_facts"), ctx)
        else:
            text = chosen_by_number(tracker, latest_text(tracker))
        level = repair_level(tracker)
        if not starting and too_long(text):
            dispatcher.utter_message(response="utter_too_long")
            return [SlotSet("repair_level", float(level))]
        messages: list[Message] = []
        resolve(ctx, state, text, requested, domain, messages)
        if is_interruption(tracker):  # "pourquoi ?" names no child: a rule answers it
            messages = [m for m in messages if m[0] != "utter_child_unknown"]
        complete(ctx, state)
        for response, variables in messages:
            dispatcher.utter_message(response=response, **variables)

        after = state.as_slots()
        changed = [SlotSet(k, v) for k, v in after.items() if v != before.get(k)]
        step = [SlotSet("requested_slot", next_step(state))]
        if starting:
            return changed + [SlotSet("pending_facts", None), SlotSet("repair_level", 0.0)] + step
        if changed:
            return changed + [SlotSet("repair_level", 0.0)] + step
        if is_interruption(tracker):
            return []
        talk = small_talk(tracker)
        if talk or messages:
            # small talk, or an explanation given (not eligible): the same step, same rung
            if talk in SMALL_TALK_RESPONSES:
                dispatcher.utter_message(response=SMALL_TALK_RESPONSES[talk])
            return [SlotSet("repair_level", float(level))] + step
        if level + 1 >= LAST_RUNG:
            # the third miss: the help line, and the form lets go; the draft stays
            offered = await closing_offer(
                dispatcher, tracker, open_response="utter_released",
                closed_response="utter_released_closed",
            )
            return offered + [SlotSet("repair_level", 0.0), SlotSet("requested_slot", None)]
        return [SlotSet("repair_level", float(level + 1))] + step


# --------------------------------------------------------------------------- entry points


class ActionPrepareRegistration(Action):
    """Keeps the facts of a registration message and says whether the parent is identified."""

    def name(self) -> str:
        return "action_prepare_registration"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        from .identification import identify_from_metadata

        if not str((tracker.latest_message or {}).get("text") or "").strip():
            # A blank message (a stray tap on "Envoyer") asks for nothing: say so and wait,
            # rather than starting an identification nobody asked for.
            dispatcher.utter_message(response="utter_empty_message")
            return [FollowupAction("action_listen")]
        if too_long(latest_text(tracker)):
            dispatcher.utter_message(response="utter_too_long")
            return [FollowupAction("action_listen")]
        text = latest_text(tracker)
        if public_question(text):
            return [FollowupAction("action_answer_faq")]
        # a registration asked for now comes before a question kept from earlier
        events: list[EventType] = [
            SlotSet("awaiting", None),
            SlotSet("repair_level", 0.0),
            SlotSet("helpdesk_question", None),
        ]
        kept = await facts.kept_facts(tracker.get_slot("pending_facts"), text)
        events.append(SlotSet("pending_facts", kept))
        identified = bool(tracker.get_slot("identified"))
        if not identified and not tracker.get_slot("signed_out"):
            found, response = await identify_from_metadata(
                (tracker.latest_message or {}).get("metadata"),
                tracker.sender_id,
                tracker.get_latest_input_channel() or "",
            )
            if found:
                events.extend(found)
                identified = True
            elif response:
                dispatcher.utter_message(response=response)
        events.append(SlotSet("identified", identified))
        return events


class ActionAfterIdentification(Action):
    """A pending or locked account, or a window not open yet, cannot register: say so kindly."""

    def name(self) -> str:
        return "action_after_identification"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        token = family_token(tracker)
        kept = tracker.get_slot("helpdesk_question")
        if kept and tracker.get_slot("identified") and token:
            # a question about the family's own file was asked first: answer it now
            answer = "action_helpdesk_cancel" if kept == "cancel_registration" else None
            return [
                SlotSet("can_register", False),
                FollowupAction(answer or "action_helpdesk_state"),
            ]
        if not tracker.get_slot("identified") or not token:
            if tracker.get_slot("id_code") != "locked":
                dispatcher.utter_message(response="utter_not_identified")
            return [
                SlotSet("can_register", False),
                SlotSet("helpdesk_question", None),
            ] + reset_identification()
        try:
            family = await backend.family(token)
            season = await backend.season(token)
        except BackendError as err:
            log.warning("family/season unavailable: %s", err.code)
            dispatcher.utter_message(response="utter_backend_error")
            return [SlotSet("can_register", False)]
        status = family.get("status")
        if status == "pending":
            dispatcher.utter_message(response="utter_account_pending")
            return [SlotSet("can_register", False)]
        if status == "locked":
            dispatcher.utter_message(response="utter_account_locked")
            return [SlotSet("can_register", False)]
        if season.get("open_for_family") is False:
            opens = season.get("opens_for_family_at") or ""
            dispatcher.utter_message(
                response="utter_not_open", opens_at=local_datetime(opens) if opens else ""
            )
            return [SlotSet("can_register", False)]
        return [SlotSet("can_register", True)]


def reset_identification() -> list[EventType]:
    return [
        SlotSet("id_client_number", None),
        SlotSet("id_phone", None),
        SlotSet("id_code", None),
        SlotSet("challenge_id", None),
    ]
