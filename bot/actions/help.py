"""Repair and help: why a question is asked (per question), the city's help line."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

WHY = {
    "id_client_number",
    "id_phone",
    "id_code",
    "reg_child",
    "reg_program",
    "reg_group",
    "reg_weeks",
    "reg_options",
    "reg_tshirt",
    "reg_waitlist",
    "pay_installments",
    "pay_accept",
}


class ActionExplainWhy(Action):
    def name(self) -> str:
        return "action_explain_why"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        asked = (
            tracker.get_slot("requested_slot") if (tracker.active_loop or {}).get("name") else None
        )
        dispatcher.utter_message(
            response=f"utter_why_{asked}" if asked in WHY else "utter_why_generic"
        )
        return []


class ActionHelpLine(Action):
    def name(self) -> str:
        return "action_help_line"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_handoff")
        return []
