"""What every action shares: reading the latest message, the repair ladder, asking a slot.

Repair ladder: a question misunderstood once is asked again with an example
(utter_reask_<slot>); twice, it is explained differently with the city's phone line
(utter_explain_<slot>); after that the parent gets utter_stuck, never the same question a
third time. Validators keep the count in the `repair_level` slot and reset it on progress.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from .formatting import fragment

log = logging.getLogger(__name__)

# Intents that interrupt a form: the validator lets the form reject the turn so a rule answers
# them, then the form asks its question again.
INTERRUPTIONS = {
    "ask_why",
    "ask_human",
    "faq_password",
    "faq_account_pending",
    "faq_portal_bug",
    "faq_releve24",
    "faq_fiche_sante",
    "out_of_scope",
    "cart_view",
    "stop",
    "resend_code",
    "sign_out",
    "not_me",
}


def latest_text(tracker: Tracker) -> str:
    """The parent's latest words; button payloads like "/checkout" carry no words."""
    text = (tracker.latest_message or {}).get("text") or ""
    return "" if text.startswith("/") else text


def latest_intent(tracker: Tracker) -> tuple[str, float]:
    intent = (tracker.latest_message or {}).get("intent") or {}
    return str(intent.get("name") or ""), float(intent.get("confidence") or 0.0)


def is_interruption(tracker: Tracker) -> bool:
    name, confidence = latest_intent(tracker)
    return name in INTERRUPTIONS and confidence >= 0.6


def new_user_turn(tracker: Tracker) -> bool:
    """True when a form validator runs on what the parent just said.

    Rasa hands the validator a tracker ending with the form's own ActionExecuted (and slot
    events); what comes before it tells a fresh user message from a form resuming after a rule
    answered an interruption ("pourquoi ?"), where there is nothing new to validate.
    """
    skipped_form = False
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind in ("slot", "user_featurization", "active_loop"):
            continue
        if kind == "action" and not skipped_form and str(event.get("name", "")).endswith("_form"):
            skipped_form = True
            continue
        if kind == "action" and event.get("name") == "action_listen":
            return False
        return kind == "user"
    return False


def activating(tracker: Tracker, form: str) -> bool:
    """The validator runs as the form starts (the form is not the active loop yet)."""
    return (tracker.active_loop or {}).get("name") != form


def repair_events(tracker: Tracker) -> list[EventType]:
    level = int(tracker.get_slot("repair_level") or 0)
    return [SlotSet("repair_level", float(min(level + 1, 3)))]


def buttons(titles_payloads: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"title": t, "payload": p} for t, p in titles_payloads]


def yes_no_buttons(domain: DomainDict) -> list[dict[str, str]]:
    yes, no = fragment(domain, "utter_fragment_yes"), fragment(domain, "utter_fragment_no")
    return buttons([(yes, yes), (no, no)])


def backend_trouble(dispatcher: CollectingDispatcher, code: str) -> None:
    log.warning("backend answered %s", code)
    dispatcher.utter_message(response="utter_backend_error")


class AskAction(Action):
    """action_ask_<slot>: the question at the repair level the validator set."""

    slot: str = ""

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    async def question(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> tuple[str, dict[str, Any], list[dict[str, str]]] | None:
        """(response name, variables, buttons) of the plain question; None to skip asking."""
        return f"utter_ask_{self.slot}", {}, []

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if tracker.get_slot("ask_done"):
            # the validator already ended its message with the question (e.g. a wrong code)
            return [SlotSet("ask_done", False)]
        level = int(tracker.get_slot("repair_level") or 0)
        try:
            asked = await self.question(dispatcher, tracker, domain)
        except Exception:  # noqa: BLE001 - the parent must get an answer whatever failed
            log.exception("asking %s failed", self.slot)
            dispatcher.utter_message(response="utter_backend_error")
            return []
        if asked is None:
            return []
        response, variables, choice_buttons = asked
        if level >= 3:
            dispatcher.utter_message(response="utter_stuck")
        elif level == 2:
            dispatcher.utter_message(response=f"utter_explain_{self.slot}", **variables)
        elif level == 1:
            dispatcher.utter_message(
                response=f"utter_reask_{self.slot}", buttons=choice_buttons, **variables
            )
        else:
            dispatcher.utter_message(response=response, buttons=choice_buttons, **variables)
        return []
