"""Public questions (the retrieval intent `faq`): one action answers every sub-intent.

The ResponseSelector picks the answer (`utter_faq/<sub>`); this action fills its variables from
the backend's facts (GET /api/facts), the live catalog and, for a total, GET /api/quote, and
says it. Inside a form the same form follows (FollowupAction), so its question is asked again:
a price asked in the middle of identification gets the price, then the identification goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from .backend_client import BackendError, backend
from .formatting import fragment, join_words, money
from .helpdesk_faq_examples import example_child
from .helpdesk_faq_quote import WHOLE_SEASON, PriceQuestion, public_question, read_price_question
from .helpdesk_faq_values import catalog_values, facts_values, per_week
from .parsing import Named, category_aliases
from .turns import latest_intent, latest_text

log = logging.getLogger(__name__)

RETRIEVAL_INTENT = "faq"
# answers whose variables come from the catalog as well as from the facts
CATALOG_ANSWERS = {"prices", "price_total", "ages", "schedules"}
CHECKOUT_ANSWERS = {"terms_meaning", "payment_terms", "hold", "link_validity"}
# measured on the containment set: misplaced public questions score 0.89–0.98, gibberish and
# small talk under 0.15
CONFIDENT_PICK = 0.8


def selected_answer(tracker: Tracker) -> str | None:
    """The sub-intent the ResponseSelector chose ("prices" for utter_faq/prices), if any."""
    selector = (tracker.latest_message or {}).get("response_selector") or {}
    chosen = selector.get(RETRIEVAL_INTENT) or selector.get("default") or {}
    key = str((chosen.get("response") or {}).get("intent_response_key") or "")
    prefix = RETRIEVAL_INTENT + "/"
    return key[len(prefix) :] if key.startswith(prefix) else None


def confident_answer(tracker: Tracker) -> str | None:
    """The selector's pick when it is sure although the intent was not: a public question the
    model could not place ("c'est quoi votre politique d'annulation" read as nlu_fallback)."""
    selector = (tracker.latest_message or {}).get("response_selector") or {}
    chosen = selector.get(RETRIEVAL_INTENT) or {}
    confidence = float((chosen.get("response") or {}).get("confidence") or 0.0)
    return selected_answer(tracker) if confidence >= CONFIDENT_PICK else None


def about_the_checkout(tracker: Tracker) -> bool:
    """A question on the terms being accepted: inside the checkout, its own answer (the plan,
    the hold, the link) says more than the general one."""
    return (
        latest_intent(tracker)[0] == RETRIEVAL_INTENT
        and selected_answer(tracker) in CHECKOUT_ANSWERS
    )


def resume_events(tracker: Tracker) -> list[EventType]:
    """Inside a form, the form runs next and asks its question again."""
    form = (tracker.active_loop or {}).get("name")
    return [FollowupAction(str(form))] if form else []


def _program_names(catalog: Mapping[str, Any]) -> list[Named]:
    return [
        Named(p["id"], p["name"], category_aliases(p.get("category", ""), p["name"]))
        for p in catalog.get("programs", [])
    ]


def _weeks_of(program: Mapping[str, Any]) -> int:
    groups = program.get("groups") or [{}]
    return len(min(groups, key=lambda g: g.get("id", 0)).get("sessions") or [])


def _priced_program(asked: PriceQuestion, catalog: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The program named, or, for weeks without an activity, the one sold by the week."""
    programs = catalog.get("programs", [])
    if asked.program_id is not None:
        return next((p for p in programs if p["id"] == asked.program_id), None)
    weekly = [p for p in programs if per_week(p)]
    return weekly[0] if len(weekly) == 1 else None


async def quote_values(
    text: str, catalog: Mapping[str, Any], domain: DomainDict
) -> dict[str, Any] | None:
    """The variables of utter_faq/price_total, or None when the message asks no total."""
    asked = read_price_question(text, _program_names(catalog))
    program = _priced_program(asked, catalog)
    if program is None or (per_week(program) and not asked.asks_a_total):
        return None
    weeks = _weeks_of(program) if asked.weeks in (None, WHOLE_SEASON) else int(asked.weeks or 1)
    quote = await backend.quote(
        {
            "activity": program["id"],
            "weeks": max(1, min(weeks, 20)),
            "garde": str("garde" in asked.options).lower(),
            "velo": str("velo" in asked.options).lower(),
        }
    )
    count = int(quote["weeks"])
    if not quote["per_week"]:
        what = fragment(domain, "utter_fragment_faq_session")
    elif count == 1:
        what = fragment(domain, "utter_fragment_faq_one_week")
    else:
        what = fragment(domain, "utter_fragment_faq_weeks", count=count)
    if quote["options"]:
        names = [fragment(domain, f"utter_fragment_option_{c}").lower() for c in quote["options"]]
        what += " " + fragment(domain, "utter_fragment_faq_with", options=join_words(domain, names))
    return {
        "activity": quote["program"],
        "what": what,
        "resident_total": money(int(quote["resident_cents"])),
        "nonresident_total": money(int(quote["nonresident_cents"])),
    }



# Public answers that, once the family is identified, come from its file instead
# (bot/actions/helpdesk_state.py): « j'ai pas reçu de confirmation » is checked, not explained.
ANSWERED_FROM_THE_FILE = {"no_confirmation": "state_no_confirmation"}

class ActionAnswerFaq(Action):
    def name(self) -> str:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events = resume_events(tracker)
        answer = selected_answer(tracker)
        if latest_intent(tracker)[0] != RETRIEVAL_INTENT:
            # handed over by the registration's first step (a price or payment question taken
            # for a registration) or by the fallback (a sure pick): the turn ends on the answer
            answer = public_question(latest_text(tracker)) or confident_answer(tracker) or "prices"
            events = events or [FollowupAction("action_listen")]
        if answer in ANSWERED_FROM_THE_FILE and tracker.get_slot("identified") and not events:
            # an identified family's own state answers this better than the public answer
            question = ANSWERED_FROM_THE_FILE[answer]
            return [SlotSet("helpdesk_question", question), FollowupAction("action_helpdesk_state")]
        if answer is None or f"utter_{RETRIEVAL_INTENT}/{answer}" not in domain.get(
            "responses", {}
        ):
            child = await example_child(tracker, domain)
            dispatcher.utter_message(response="utter_fallback", example_child=child)
            return events
        try:
            facts = await backend.facts()
            values = facts_values(facts, domain)
            if answer in CATALOG_ANSWERS:
                catalog = await backend.catalog()
                values |= catalog_values(catalog, domain)
            if answer in ("prices", "price_total"):
                total = await quote_values(latest_text(tracker), catalog, domain)
                answer = "price_total" if total else "prices"
                values |= total or {}
        except BackendError as err:
            log.info("help-desk facts unavailable: %s", err.code)
            dispatcher.utter_message(response="utter_backend_error")
            return events
        dispatcher.utter_message(response=f"utter_{RETRIEVAL_INTENT}/{answer}", **values)
        return [
            SlotSet("help_phone", values["help_phone"]),
            SlotSet("help_hours", values["help_hours"]),
            *events,
        ]
