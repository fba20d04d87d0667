"""The family session a conversation holds: sealed in its slot, opened for each backend call.

The backend's family token is a credential: the tracker store (and any dump of it) must not be
able to act as the family. The `family_token` slot therefore holds only
`encrypt_at_rest(token, sender_id)`, readable by the action server alone and for this
conversation alone; every action reads it through `family_token(tracker)`.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet

from ..sealing import decrypt_at_rest, encrypt_at_rest


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
