"""Asking a form's question at the right rung of the repair ladder.

Rung 0: the question. Rung 1 (one miss): asked again with an example. Rung 2 (two misses):
the choices as a numbered list when the question has several, otherwise explained
differently with the city's help line. Rung 3: the help line (utter_stuck), never the same
question a third time; the registration form is then released with its draft kept
(see registration.py). Validators keep the rung in `repair_level` and reset it on progress.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from .formatting import fragment
from .helpdesk_human_hours import closing_offer

log = logging.getLogger(__name__)

LAST_RUNG = 3


def repair_level(tracker: Tracker) -> int:
    return int(tracker.get_slot("repair_level") or 0)


def repair_events(tracker: Tracker) -> list[EventType]:
    return [SlotSet("repair_level", float(min(repair_level(tracker) + 1, LAST_RUNG)))]


def buttons(titles_payloads: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"title": t, "payload": p} for t, p in titles_payloads]


def yes_no_buttons(domain: DomainDict) -> list[dict[str, str]]:
    yes, no = fragment(domain, "utter_fragment_yes"), fragment(domain, "utter_fragment_no")
    return buttons([(yes, yes), (no, no)])


def numbered(domain: DomainDict, titles: list[str]) -> str:
    return "\n".join(
        fragment(domain, "utter_fragment_numbered", number=i, choice=t)
        for i, t in enumerate(titles, start=1)
    )


def chosen_by_number(tracker: Tracker, text: str) -> str:
    """A bare number answering the numbered list of the previous turn is that choice's title."""
    titles = tracker.get_slot("numbered_choices") or []
    stripped = text.strip().rstrip(".")
    if titles and stripped.isdigit() and 0 < int(stripped) <= len(titles):
        return str(titles[int(stripped) - 1])
    return text


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
        level = repair_level(tracker)
        try:
            asked = await self.question(dispatcher, tracker, domain)
        except Exception:  # noqa: BLE001 - the parent must get an answer whatever failed
            log.exception("asking %s failed", self.slot)
            dispatcher.utter_message(response="utter_backend_error")
            return []
        if asked is None:
            return []
        response, variables, choice_buttons = asked
        titles = [b["title"] for b in choice_buttons]
        if titles == [b["title"] for b in yes_no_buttons(domain)]:
            titles = []  # "1. Oui 2. Non" helps nobody: explained instead
        if level >= LAST_RUNG:
            await closing_offer(
                dispatcher, tracker, open_response="utter_stuck",
                closed_response="utter_stuck_closed", offer=False,
            )
        elif level == 2 and len(titles) > 1:
            dispatcher.utter_message(
                response="utter_ask_numbered", choices=numbered(domain, titles), buttons=[]
            )
            return [SlotSet("numbered_choices", titles)]
        elif level == 2:
            dispatcher.utter_message(response=f"utter_explain_{self.slot}", **variables)
        elif level == 1:
            dispatcher.utter_message(
                response=f"utter_reask_{self.slot}", buttons=choice_buttons, **variables
            )
        else:
            dispatcher.utter_message(response=response, buttons=choice_buttons, **variables)
        return [SlotSet("numbered_choices", None)] if tracker.get_slot("numbered_choices") else []
