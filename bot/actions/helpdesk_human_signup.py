"""« Je n'ai pas de compte » : the new family file's form, one function per slot.

The phone or courriel is proven first with a one-time code (read from the message, sent to
the backend, forgotten: su_code only holds "ok" or how the check ended). A contact already on
a file opens that file instead (the same form finds a lost client number, su_purpose
"lookup"). Then the parent's name, address, the other contact and the children with their
birth dates; the file is created pending approval (docs/API.md, "New family file")."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from babel.lists import format_list
from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from . import helpdesk_human_client as desk
from . import parsing
from .asking import AskAction, repair_events
from .backend_client import BackendError
from .formatting import LOCALE, fragment
from .reading import new_file
from .session import identified_events
from .turns import is_interruption, latest_text, new_user_turn

log = logging.getLogger(__name__)

LATER_SLOTS = ("su_name", "su_address", "su_other_contact", "su_children")
ALL_SLOTS = ("su_contact", "su_code", *LATER_SLOTS)
DONE = "-"


def _ended(outcome: str) -> list[EventType]:
    """The form ends here (a file already has the contact, the code is locked): every later
    slot is filled so the form lets go; action_create_family then creates nothing."""
    return [SlotSet("su_code", outcome), SlotSet("su_challenge", None)] + [
        SlotSet(name, [DONE] if name in ("su_name", "su_children") else DONE)
        for name in LATER_SLOTS
    ]


class ValidateSignupForm(FormValidationAction):
    def name(self) -> str:
        return "validate_signup_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        requested = tracker.get_slot("requested_slot")
        if not new_user_turn(tracker) or requested not in ALL_SLOTS:
            return []
        # The answer is read first: an address or a name may look like anything to the model
        # (« 45 rue des Pins » taken for out_of_scope); only an unread turn is an interruption.
        text = latest_text(tracker)
        reader = getattr(self, f"validate_{requested}")
        events: list[EventType] | None = await reader(text, dispatcher, tracker, domain)
        if events is not None:
            return events
        return [] if is_interruption(tracker) else repair_events(tracker)

    async def validate_su_contact(
        self, text: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType] | None:
        phone = parsing.parse_phone(text)
        email = None if phone else new_file.parse_email(text)
        if not phone and not email:
            return None
        try:
            started = await desk.signup_start(phone=phone, email=email)
        except BackendError as err:
            log.warning("signup start refused: %s", err.code)
            dispatcher.utter_message(response="utter_backend_error")
            return [SlotSet("ask_done", True)]
        shown = f"{phone[:3]} {phone[3:6]}-{phone[6:]}" if phone else str(email)
        return [
            SlotSet("su_contact", shown),
            SlotSet("su_channel", started["channel"]),
            SlotSet("su_challenge", started["challenge_id"]),
            SlotSet("repair_level", 0.0),
        ]

    async def validate_su_code(
        self, text: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType] | None:
        code = parsing.parse_code(text)
        if code is None:
            return None
        try:
            verified = await desk.signup_verify(str(tracker.get_slot("su_challenge")), code)
        except BackendError as err:
            return self._refused(err, dispatcher)
        kind = fragment(
            domain,
            "utter_fragment_contact_phone"
            if verified["channel"] == "sms"
            else "utter_fragment_contact_email",
        )
        if verified["existing"] == "one":
            family = verified.get("family") or {}
            dispatcher.utter_message(
                response="utter_su_existing",
                contact_kind=kind,
                payer_name=family.get("payer_name") or "",
                client_number=family.get("client_number", ""),
            )
            return identified_events(verified, tracker.sender_id) + _ended("existing")
        if verified["existing"] == "several":
            dispatcher.utter_message(response="utter_su_existing_several", contact_kind=kind)
            return _ended("several")
        if tracker.get_slot("su_purpose") == "lookup":
            dispatcher.utter_message(response="utter_lookup_none", contact_kind=kind)
            return _ended("none")
        return [SlotSet("su_code", "ok"), SlotSet("repair_level", 0.0)]

    @staticmethod
    def _refused(err: BackendError, dispatcher: CollectingDispatcher) -> list[EventType]:
        if err.code == "code_invalid":
            dispatcher.utter_message(
                response="utter_su_code_invalid", attempts_left=err.data.get("attempts_left", 0)
            )
            return [SlotSet("ask_done", True), SlotSet("repair_level", 0.0)]
        if err.code == "code_expired":
            dispatcher.utter_message(response="utter_su_code_expired")
            return [SlotSet("su_contact", None), SlotSet("su_challenge", None)]
        if err.code == "challenge_locked":
            dispatcher.utter_message(response="utter_su_code_locked")
            return _ended("locked")
        dispatcher.utter_message(response="utter_backend_error")
        return [SlotSet("ask_done", True)]

    async def validate_su_name(
        self, text: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType] | None:
        name = new_file.parse_person_name(text)
        if name is None:
            return None
        return [SlotSet("su_name", list(name)), SlotSet("repair_level", 0.0)]

    async def validate_su_address(
        self, text: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType] | None:
        address = new_file.parse_address(text)
        if address is None:
            return None
        return [SlotSet("su_address", address), SlotSet("repair_level", 0.0)]

    async def validate_su_other_contact(
        self, text: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType] | None:
        if tracker.get_slot("su_channel") == "sms":
            email = new_file.parse_email(text)
            value = email or ("none" if new_file.says_no_email(text) else None)
        else:
            phone = parsing.parse_phone(text)
            value = f"{phone[:3]} {phone[3:6]}-{phone[6:]}" if phone else None
        if value is None:
            return None
        return [SlotSet("su_other_contact", value), SlotSet("repair_level", 0.0)]

    async def validate_su_children(
        self, text: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType] | None:
        children = new_file.parse_children(text)
        if children is None:
            return None
        today = date.today()
        for child in children:
            if child.birth_date is None or not new_file.plausible_birth_date(
                child.birth_date, today
            ):
                written = child.birth_date.isoformat() if child.birth_date else text.strip()
                dispatcher.utter_message(
                    response="utter_su_child_date_bad", name=child.first_name, date=written
                )
                return [SlotSet("ask_done", True)]
        return [
            SlotSet(
                "su_children",
                [
                    {"first_name": c.first_name, "birth_date": c.birth_date.isoformat()}
                    for c in children
                    if c.birth_date is not None
                ],
            ),
            SlotSet("repair_level", 0.0),
        ]


class AskSignupContact(AskAction):
    slot = "su_contact"


class AskSignupCode(AskAction):
    slot = "su_code"

    async def question(self, dispatcher, tracker, domain):  # type: ignore[no-untyped-def]
        by = (
            "utter_fragment_sent_by_sms"
            if tracker.get_slot("su_channel") == "sms"
            else ("utter_fragment_sent_by_email")
        )
        sent_to = fragment(domain, by, contact=tracker.get_slot("su_contact") or "")
        return "utter_ask_su_code", {"sent_to": sent_to}, []


class AskSignupName(AskAction):
    slot = "su_name"


class AskSignupAddress(AskAction):
    slot = "su_address"


class AskSignupOtherContact(AskAction):
    slot = "su_other_contact"

    async def question(self, dispatcher, tracker, domain):  # type: ignore[no-untyped-def]
        if tracker.get_slot("su_channel") == "sms":
            return "utter_ask_su_other_contact_email", {}, []
        return "utter_ask_su_other_contact_phone", {}, []


class AskSignupChildren(AskAction):
    slot = "su_children"


CLEARED = (*ALL_SLOTS, "su_purpose", "su_challenge", "su_channel", "requested_slot")


class ActionCreateFamily(Action):
    """signup_form's end: the file, pending approval; the parent is identified with it."""

    def name(self) -> str:
        return "action_create_family"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        cleared: list[EventType] = [SlotSet(name, None) for name in CLEARED]
        if tracker.get_slot("su_purpose") != "signup" or tracker.get_slot("su_code") != "ok":
            return cleared
        try:
            created = await desk.signup_family(_body(tracker))
        except BackendError as err:
            if err.code == "family_exists":
                dispatcher.utter_message(response="utter_signup_failed_exists")
            elif err.code == "contact_not_verified":
                dispatcher.utter_message(response="utter_signup_failed_expired")
            else:
                log.warning("signup refused: %s", err.code)
                dispatcher.utter_message(response="utter_backend_error")
            return cleared
        family = created["family"]
        names = [c["first_name"] for c in family.get("children", [])]
        dispatcher.utter_message(
            response="utter_signup_created",
            client_number=family["client_number"],
            children=format_list(names, locale=LOCALE),
            delivery=fragment(
                domain,
                "utter_fragment_by_sms_and_email"
                if family.get("email_masked")
                else "utter_fragment_by_sms",
            ),
        )
        return (
            cleared
            + identified_events(created, tracker.sender_id)
            + [SlotSet("can_register", False)]
        )


def _body(tracker: Tracker) -> dict[str, Any]:
    first, last = (tracker.get_slot("su_name") or ["", ""])[:2]
    other = tracker.get_slot("su_other_contact")
    body: dict[str, Any] = {
        "challenge_id": tracker.get_slot("su_challenge"),
        "first_name": first,
        "last_name": last,
        "address": tracker.get_slot("su_address"),
        "children": tracker.get_slot("su_children") or [],
    }
    if tracker.get_slot("su_channel") == "sms":
        if other and other != "none":
            body["email"] = other
    elif other:
        body["phone"] = other
    return body
