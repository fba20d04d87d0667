"""Cancelling a registration or a week by chat (« je veux annuler l'inscription de mon fils »).

The lines meant are found in the family's live registrations (the child named, the weeks
named; « mon fils » when only one child has any); the refund comes from the backend's quote
and is stated before anything changes; only a « oui » to that question cancels. The line ids
asked about are kept in `cancel_lines` between the two turns.
"""

from __future__ import annotations

import logging
import re
from datetime import date
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from .backend_client import BackendError, backend
from .checkout_terms import delivery
from .formatting import fragment, join_words, money
from .helpdesk_state import CANCEL, identified_or_kept, question_text
from .helpdesk_state_lines import all_lines, listing, what
from .reading.children import Child, parse_children
from .reading.weeks import week_word
from .session import family_token

log = logging.getLogger(__name__)

CANCELLABLE = ("confirmed", "held", "offered", "waitlisted")


def named_weeks(text: str) -> set[int]:
    """Week numbers the message names after a week word (« semaine 3 », « sem 2 et 4 »)."""
    weeks: set[int] = set()
    for match in week_word().finditer(text.lower()):
        tail = text.lower()[match.end() : match.end() + 24]
        lead = re.match(r"\s*((?:\d{1,2}\s*(?:,|et|&|-|à|a)?\s*)+)", tail)
        if lead:
            weeks.update(int(n) for n in re.findall(r"\d{1,2}", lead.group(1)))
    return weeks


def lines_meant(
    status: dict[str, Any], family: dict[str, Any], text: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(lines meant, every cancellable line): the child named or the only child with
    registrations, and the weeks named, if any. Several children and none named: none meant."""
    lines = [line for line in all_lines(status) if line["status"] in CANCELLABLE]
    children = [
        Child(int(c["id"]), str(c["first_name"]), date.fromisoformat(c["birth_date"]))
        for c in family.get("children", [])
    ]
    named = parse_children(text, children)
    with_lines = {line["child_id"] for line in lines}
    if named is None:
        if len(with_lines) != 1:
            return [], lines
        named = list(with_lines)
    meant = [line for line in lines if line["child_id"] in named]
    weeks = named_weeks(text)
    if weeks:
        meant = [line for line in meant if line["week"] in weeks]
    return meant, lines


class ActionHelpdeskCancel(Action):
    def name(self) -> str:
        return "action_helpdesk_cancel"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        token, events = await identified_or_kept(dispatcher, tracker, CANCEL)
        if token is None:
            return events
        events += [
            SlotSet("helpdesk_question", None),
            SlotSet("awaiting", None),
            SlotSet("cancel_asked", False),
            SlotSet("cancel_lines", None),
        ]
        try:
            status = await backend.family_status(token)
            family = await backend.family(token)
        except BackendError as err:
            log.warning("family status unavailable: %s", err.code)
            dispatcher.utter_message(response="utter_backend_error")
            return events
        meant, every = lines_meant(status, family, question_text(tracker, CANCEL))
        if not every:
            dispatcher.utter_message(response="utter_cancel_nothing")
            return events
        if not meant:
            first = every[0]
            dispatcher.utter_message(
                response="utter_cancel_which",
                lines=listing(domain, every),
                example=fragment(
                    domain,
                    "utter_fragment_cancel_example",
                    child=first["child"],
                    week=first["week"],
                ),
            )
            return events
        try:
            quotes = [await backend.cancellation_quote(token, int(line["id"])) for line in meant]
        except BackendError as err:
            log.warning("cancellation quote refused: %s", err.code)
            dispatcher.utter_message(response="utter_cancel_failed")
            return events
        dispatcher.utter_message(
            response="utter_cancel_confirm",
            lines=listing(domain, meant),
            refund_text=refund_text(domain, quotes),
        )
        return events + [
            SlotSet("cancel_lines", [str(line["id"]) for line in meant]),
            SlotSet("cancel_asked", True),
        ]


def refund_text(domain: DomainDict, quotes: list[dict[str, Any]]) -> str:
    """What the quotes (or the cancellations' answers) give back, keep and no longer ask."""
    refund = sum(int(q.get("refund_cents") or 0) for q in quotes)
    fee = sum(int(q.get("fee_cents") or 0) for q in quotes)
    due = sum(int(q.get("still_due_cancelled_cents") or 0) for q in quotes)
    parts = [] if refund or fee else [fragment(domain, "utter_fragment_cancel_free")]
    if refund:
        parts.append(fragment(domain, "utter_fragment_cancel_refund", refund=money(refund)))
    if fee:
        parts.append(fragment(domain, "utter_fragment_cancel_fee", fee=money(fee)))
    if due:
        parts.append(fragment(domain, "utter_fragment_cancel_due", due=money(due)))
    return " ".join(parts)


class ActionHelpdeskCancelConfirm(Action):
    """« oui » to the cancellation question: each line is cancelled, the refund said."""

    def name(self) -> str:
        return "action_helpdesk_cancel_confirm"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        token = family_token(tracker)
        ids = [int(i) for i in tracker.get_slot("cancel_lines") or []]
        # the rule that ran this ends here: listen (its condition, cancel_asked, is now off)
        cleared: list[EventType] = [
            SlotSet("cancel_lines", None),
            SlotSet("cancel_asked", False),
            FollowupAction("action_listen"),
        ]
        if not token or not ids:
            dispatcher.utter_message(response="utter_cancel_nothing")
            return cleared
        before = {line["id"]: line for line in all_lines(await backend.family_status(token))}
        done: list[dict[str, Any]] = []
        answers: list[dict[str, Any]] = []
        for line_id in ids:
            try:
                # the refund said is the one of this moment (a date can change the policy's)
                quote = await backend.cancellation_quote(token, line_id)
                answer = await backend.cancel_line(token, line_id)
                answers.append({**quote, **{k: v for k, v in answer.items() if k in quote}})
                if line_id in before:
                    done.append(before[line_id])
            except BackendError as err:
                log.warning("cancellation refused: %s", err.code)
                dispatcher.utter_message(response="utter_cancel_failed")
                break
        if done:
            family = await backend.family(token)
            dispatcher.utter_message(
                response="utter_cancel_done",
                lines=join_words(domain, [what(domain, line) for line in done]),
                refund_text=refund_text(domain, answers),
                delivery=delivery(domain, family),
            )
        return cleared


class ActionHelpdeskCancelKeep(Action):
    """« non » to the cancellation question: nothing changes."""

    def name(self) -> str:
        return "action_helpdesk_cancel_keep"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_cancel_kept")
        return [
            SlotSet("cancel_lines", None),
            SlotSet("cancel_asked", False),
            FollowupAction("action_listen"),
        ]


class ActionHelpdeskChange(Action):
    """« changer de semaine » for a registration already made: cancel, then register again
    (said, with the family's own child's name in the examples)."""

    def name(self) -> str:
        return "action_helpdesk_change"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        token = family_token(tracker) if tracker.get_slot("identified") else None
        child = fragment(domain, "utter_fragment_change_child_unknown")
        if token:
            try:
                children = (await backend.family(token)).get("children") or []
                child = str(children[0]["first_name"]) if children else child
            except BackendError as err:
                log.info("family unavailable for the example: %s", err.code)
        dispatcher.utter_message(response="utter_change_registration", child=child)
        return []
