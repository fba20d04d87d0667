"""A human: the help desk's line while it is open, a callback request while it is closed
("je veux parler à quelqu'un", the repair ladder's last rung); the account's real status; a
lost client number. The new file's form is in helpdesk_human_signup.py."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from . import helpdesk_human_client as desk
from . import parsing
from .asking import AskAction, repair_events
from .backend_client import BackendError, backend
from .formatting import fragment, local_datetime
from .helpdesk_human_hours import closing_offer, help_desk_or_none
from .session import family_token
from .turns import is_interruption, latest_text, new_user_turn

log = logging.getLogger(__name__)


class ActionOfferHuman(Action):
    def name(self) -> str:
        return "action_offer_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        return await closing_offer(
            dispatcher,
            tracker,
            open_response="utter_helpdesk_open",
            closed_response="utter_helpdesk_closed_offer",
        )


class ActionDeclineCallback(Action):
    def name(self) -> str:
        return "action_decline_callback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_callback_declined")
        return [SlotSet("callback_offered", None)]


class ValidateCallbackForm(FormValidationAction):
    """One slot: the number to call. An identified parent is called at the file's phone."""

    def name(self) -> str:
        return "validate_callback_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if family_token(tracker):
            return [SlotSet("cb_phone", "file")]
        if not new_user_turn(tracker) or tracker.get_slot("requested_slot") != "cb_phone":
            return []
        return self.validate_cb_phone(tracker)

    @staticmethod
    def validate_cb_phone(tracker: Tracker) -> list[EventType]:
        phone = parsing.parse_phone(latest_text(tracker))
        if phone:
            return [SlotSet("cb_phone", phone), SlotSet("repair_level", 0.0)]
        return [] if is_interruption(tracker) else repair_events(tracker)


class AskCallbackPhone(AskAction):
    slot = "cb_phone"


class ActionRequestCallback(Action):
    """callback_form's end: the request is stored with its structured summary, and the parent
    is told when to expect the call."""

    def name(self) -> str:
        return "action_request_callback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        token = family_token(tracker)
        phone = tracker.get_slot("cb_phone")
        child = await _first_child_name(tracker, token)
        try:
            made = await desk.request_callback(
                token,
                topic=str(tracker.get_slot("hd_topic") or "other"),
                step=str(tracker.get_slot("hd_step") or "none"),
                child=child,
                phone=None if phone in (None, "file") else str(phone),
            )
        except BackendError as err:
            log.warning("callback request refused: %s", err.code)
            dispatcher.utter_message(response="utter_backend_error")
            return [SlotSet("callback_offered", None), SlotSet("cb_phone", None)]
        status = await help_desk_or_none()
        expected = (
            fragment(domain, "utter_fragment_callback_at", when=local_datetime(made["expected_at"]))
            if status is not None and not status.get("open")
            else fragment(domain, "utter_fragment_callback_now")
        )
        dispatcher.utter_message(
            response="utter_callback_booked", phone=_shown_phone(made["phone"]), expected=expected
        )
        return [SlotSet("callback_offered", None), SlotSet("cb_phone", None)]


async def _first_child_name(tracker: Tracker, token: str | None) -> str | None:
    """The first name of the child the registration was about, if one was chosen."""
    chosen = tracker.get_slot("reg_child") or []
    if not token or not chosen:
        return None
    try:
        family = await backend.family(token)
    except BackendError:
        return None
    names = {c.get("id"): c.get("first_name") for c in family.get("children", [])}
    return str(names.get(chosen[0]) or "") or None


def _shown_phone(e164: str) -> str:
    digits = "".join(c for c in e164 if c.isdigit())[-10:]
    return f"{digits[:3]} {digits[3:6]}-{digits[6:]}" if len(digits) == 10 else e164


class ActionAccountStatus(Action):
    """« Mon compte est en attente » : the file's real status when identified, the general
    answer otherwise."""

    def name(self) -> str:
        return "action_account_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        token = family_token(tracker)
        if not token:
            dispatcher.utter_message(response="utter_faq_account_pending")
            return []
        try:
            family = await desk.family_now(token)
        except BackendError as err:
            log.warning("family status unavailable: %s", err.code)
            dispatcher.utter_message(response="utter_backend_error")
            return []
        number = family.get("client_number", "")
        if family.get("status") == "pending":
            dispatcher.utter_message(
                response="utter_account_status_pending",
                client_number=number,
                delivery=_delivery(domain, family),
            )
        elif family.get("status") == "locked":
            dispatcher.utter_message(response="utter_account_locked")
        else:
            dispatcher.utter_message(response="utter_account_status_approved", client_number=number)
        return []


def _delivery(domain: DomainDict, family: dict[str, Any]) -> str:
    if family.get("email_masked"):
        return fragment(domain, "utter_fragment_by_sms_and_email")
    return fragment(domain, "utter_fragment_by_sms")


class ActionLostClientNumber(Action):
    """« J'ai perdu mon numéro de client » : told at once when identified; otherwise a code to
    the phone or courriel on file finds the file (signup_form in lookup mode)."""

    def name(self) -> str:
        return "action_lost_client_number"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        token = family_token(tracker)
        if token:
            try:
                family = await desk.family_now(token)
            except BackendError:
                dispatcher.utter_message(response="utter_backend_error")
                return []
            dispatcher.utter_message(
                response="utter_client_number_is",
                client_number=family.get("client_number", ""),
                payer_name=family.get("payer_name") or "",
            )
            return []
        dispatcher.utter_message(response="utter_lookup_intro")
        return [SlotSet("su_purpose", "lookup"), FollowupAction("signup_form")]


class ActionStartSignup(Action):
    """« Je n'ai pas de compte » : the new file's form (an identified parent already has one)."""

    def name(self) -> str:
        return "action_start_signup"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        token = family_token(tracker)
        if token:
            try:
                family = await desk.family_now(token)
            except BackendError:
                dispatcher.utter_message(response="utter_backend_error")
                return []
            dispatcher.utter_message(
                response="utter_signup_already_identified",
                client_number=family.get("client_number", ""),
            )
            return []
        dispatcher.utter_message(response="utter_signup_intro")
        return [SlotSet("su_purpose", "signup"), FollowupAction("signup_form")]
