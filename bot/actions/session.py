"""The family session a conversation holds: sealed in its slot, opened for each backend call,
ended when the parent signs out.

The backend's family token is a credential: the tracker store (and any dump of it) must not be
able to act as the family. The `family_token` slot therefore holds only
`encrypt_at_rest(token, sender_id)`, readable by the action server alone and for this
conversation alone; every action reads it through `family_token(tracker)`.

Signing out ("déconnectez-moi", "ce n'est pas moi") revokes the token at the backend, so a copy
of it is worthless too, and clears every slot about the family. The channel's identity (a
widget token, the SMS sender) is not taken again in that conversation session: the parent
identifies with the client number and the code.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from ..sealing import decrypt_at_rest, encrypt_at_rest
from .backend_client import BackendError, backend

log = logging.getLogger(__name__)


def family_token(tracker: Tracker) -> str | None:
    """The family token in clear for a backend call, or None (not identified, or a slot value
    sealed for another conversation or under another key)."""
    return decrypt_at_rest(tracker.get_slot("family_token"), tracker.sender_id)


def identified_events(result: dict[str, Any], sender_id: str) -> list[EventType]:
    """The slots of a family the backend just identified (its token sealed for `sender_id`)."""
    family = result.get("family") or {}
    return [
        SlotSet("family_token", encrypt_at_rest(str(result["family_token"]), sender_id)),
        SlotSet("identified", True),
        SlotSet("payer_name", family.get("payer_name")),
    ]


def signed_out_events() -> list[EventType]:
    """Every slot that says who the family is or what it was doing: identification, the
    registration in progress, the cart and checkout state."""
    from .registration import SLOTS as REGISTRATION_SLOTS

    cleared = (
        "family_token",
        "payer_name",
        "can_register",
        "challenge_id",
        "id_client_number",
        "id_phone",
        "id_code",
        "pending_facts",
        *REGISTRATION_SLOTS,
        "pay_installments",
        "pay_accept",
        "checkout_ready",
        "awaiting",
        "last_lines",
        "requested_slot",
        "helpdesk_question",
        "cancel_lines",
    )
    return [
        *(SlotSet(name, None) for name in cleared),
        SlotSet("identified", False),
        SlotSet("signed_out", True),
        SlotSet("repair_level", 0.0),
        SlotSet("ask_done", False),
        SlotSet("cancel_asked", False),
    ]


class ActionSignOut(Action):
    """"Déconnectez-moi", "ce n'est pas moi": the backend ends the session, the conversation
    forgets the family, and the parent is told."""

    def name(self) -> str:
        return "action_sign_out"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        token = family_token(tracker)
        intent = str(((tracker.latest_message or {}).get("intent") or {}).get("name") or "")
        if token:
            try:
                await backend.revoke_session(token)
            except BackendError as err:
                # already expired (401), or the backend is down: the conversation forgets the
                # token all the same, and the backend expires it on its own
                log.warning("session revoke answered %s", err.code)
        if token or tracker.get_slot("identified"):
            response = "utter_signed_out_not_me" if intent == "not_me" else "utter_signed_out"
        else:
            response = "utter_no_session"
        dispatcher.utter_message(response=response)
        return signed_out_events()
