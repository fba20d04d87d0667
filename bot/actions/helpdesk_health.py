"""« La fiche santé » : the bot never takes health details in the conversation, nor by texto;
it gives the identified family one personal link per child to the backend's form
(docs/HEALTH.md).

On the web chat the links come in the reply. By texto the bot says why the fiche is not taken
there and still gives the links, to open in a browser. A parent not identified yet hears what
the fiche is and is identified first (rules_helpdesk_health.yml); once identified the links
follow. The links are credentials for one child's fiche: they are said, never kept in a slot.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from .backend_client import BackendError, backend
from .formatting import fragment, long_date
from .session import family_token

log = logging.getLogger(__name__)

# Channels whose messages are texts: the fiche is never filled there.
TEXT_CHANNELS = frozenset({"twilio_sms"})


def link_lines(domain: DomainDict, children: list[dict[str, Any]]) -> str:
    """One line per child; a fiche already filled says so (the link updates it)."""
    done, missing = "utter_fragment_health_link_done", "utter_fragment_health_link"
    return "\n".join(
        fragment(
            domain, done if c.get("complete") else missing, child=c["first_name"], url=c["url"]
        )
        for c in children
    )


class ActionHealthLink(Action):
    def name(self) -> str:
        return "action_health_link"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        token = family_token(tracker) if tracker.get_slot("identified") else None
        if not token:
            in_identification = (tracker.active_loop or {}).get("name") == "identification_form"
            if tracker.get_slot("health_asked") and not in_identification:
                # The identification asked for the fiche did not succeed: no loop back into it.
                dispatcher.utter_message(response="utter_health_not_identified")
                return [SlotSet("health_asked", False)]
            dispatcher.utter_message(response="utter_faq_fiche_sante")
            return [SlotSet("health_asked", True)]
        try:
            answer = await backend.health_links(token)
        except BackendError as err:
            log.warning("fiche santé links unavailable: %s", err.code)
            dispatcher.utter_message(response="utter_backend_error")
            return [SlotSet("health_asked", False)]
        children = [c for c in answer.get("children") or [] if c.get("url")]
        if not children:
            dispatcher.utter_message(response="utter_health_no_child")
            return [SlotSet("health_asked", False)]
        by_text = tracker.get_latest_input_channel() in TEXT_CHANNELS
        dispatcher.utter_message(
            response="utter_health_links_sms" if by_text else "utter_health_links_web",
            links=link_lines(domain, children),
            expires=long_date(str(children[0]["expires_at"])),
        )
        return [SlotSet("health_asked", False)]
