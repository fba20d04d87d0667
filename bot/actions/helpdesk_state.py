"""A family's questions about its own file (« est-ce que Léa est inscrite ? », « combien je
vous dois ? », « le lien marche pu »): answered from the backend once the family is known.

Not identified yet: the question is kept (its intent, in `helpdesk_question`), the
identification form runs, and `action_after_identification` comes back here to answer it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from .backend_client import BackendError, backend
from .helpdesk_state_answers import OWING, Answer
from .session import family_token
from .turns import latest_intent
from .waiting_room import join_and_tell

log = logging.getLogger(__name__)


async def _registrations(a: Answer) -> None:
    a.registrations()


async def _waitlist(a: Answer) -> None:
    a.waitlist()


async def _balance(a: Answer) -> None:
    a.balance()


QUESTIONS: dict[str, Callable[[Answer], Awaitable[None]]] = {
    "state_registration": _registrations,
    "state_waitlist": _waitlist,
    "state_balance": _balance,
    "state_pay_balance": Answer.pay_balance,
    "state_link_problem": Answer.new_link,
    "state_card_declined": Answer.card_declined,
    "state_payment_done": Answer.payment_done,
    "state_no_confirmation": Answer.no_confirmation,
}
CANCEL = "cancel_registration"
# Answered from the waiting room, not from the family status (bot/actions/waiting_room.py).
WAITING_ROOM = "waiting_room_position"


def question_asked(tracker: Tracker, known: set[str]) -> str | None:
    """The question to answer: this message's, or the one kept while the family identified."""
    intent, _ = latest_intent(tracker)
    if intent in known:
        return intent
    kept = tracker.get_slot("helpdesk_question")
    return str(kept) if kept in known else None


def question_text(tracker: Tracker, intent: str) -> str:
    """The words of the latest message classified as `intent` (a name or a week it gave)."""
    for event in reversed(tracker.events):
        parsed = (event.get("parse_data") or {}).get("intent") or {}
        if event.get("event") == "user" and parsed.get("name") == intent:
            return str(event.get("text") or "")
    return ""


async def identified_or_kept(
    dispatcher: CollectingDispatcher, tracker: Tracker, question: str
) -> tuple[str | None, list[EventType]]:
    """(family token, events): the token when the family is known (from the conversation or
    the channel), else None and the question kept for after the identification form."""
    from .identification import identify_from_metadata

    token = family_token(tracker) if tracker.get_slot("identified") else None
    if token:
        return token, [SlotSet("identified", True)]
    events: list[EventType] = []
    if not tracker.get_slot("signed_out"):
        found, response = await identify_from_metadata(
            (tracker.latest_message or {}).get("metadata"),
            tracker.sender_id,
            tracker.get_latest_input_channel() or "",
        )
        if response:
            dispatcher.utter_message(response=response)
        events.extend(found)
        for event in found:
            if event.get("name") == "family_token":
                from ..sealing import decrypt_at_rest

                token = decrypt_at_rest(event.get("value"), tracker.sender_id)
        if token:
            return token, events + [SlotSet("identified", True)]
    return None, events + [SlotSet("helpdesk_question", question), SlotSet("identified", False)]


async def owes_on_an_order(token: str) -> bool:
    """An order placed and not paid yet (or its link expired): what a payment link is for."""
    try:
        status = await backend.family_status(token)
    except BackendError:
        return False
    return any(o["status"] in OWING + ("expired",) for o in status.get("orders", [])[:1]) or any(
        o["status"] in OWING for o in status.get("orders", [])
    )


class ActionHelpdeskState(Action):
    def name(self) -> str:
        return "action_helpdesk_state"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        question = question_asked(tracker, {*QUESTIONS, WAITING_ROOM}) or "state_registration"
        token, events = await identified_or_kept(dispatcher, tracker, question)
        if token is None:
            return events
        if question == WAITING_ROOM:
            if not await join_and_tell(dispatcher, tracker, domain, token):
                dispatcher.utter_message(response="utter_backend_error")
            return events + [SlotSet("helpdesk_question", None)]
        try:
            status = await backend.family_status(token)
            family = await backend.family(token)
        except BackendError as err:
            log.warning("family status unavailable: %s", err.code)
            dispatcher.utter_message(response="utter_backend_error")
            return events + [SlotSet("helpdesk_question", None)]
        answer = Answer(dispatcher, domain, token, status, family, question_text(tracker, question))
        await QUESTIONS[question](answer)
        return events + [SlotSet("helpdesk_question", None), SlotSet("awaiting", None)]
