"""Checkout: payment terms (1 or 2 versements, as the backend allows), acceptance of the
modalités de paiement, then the payment link (or, in a deferred season, why nothing is charged)."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from . import parsing
from .backend_client import BackendError, backend
from .cart import render_cart
from .common import (
    AskAction,
    activating,
    backend_trouble,
    is_interruption,
    latest_text,
    new_user_turn,
    repair_events,
    yes_no_buttons,
)
from .formatting import fragment, local_time, long_date, money
from .session import family_token

log = logging.getLogger(__name__)


def refused_response(reason: str | None) -> str:
    return (
        f"utter_installments_refused_{reason}"
        if reason in ("not_day_camp", "below_minimum", "too_close_to_start")
        else "utter_installments_refused_not_day_camp"
    )


def plan_text(domain: DomainDict, terms: dict[str, Any], installments: int) -> str:
    plan = terms.get("plans", {}).get(str(installments)) or []
    if installments == 2 and len(plan) == 2:
        return fragment(
            domain,
            "utter_fragment_plan_two",
            first_amount=money(plan[0]["amount_cents"]),
            second_amount=money(plan[1]["amount_cents"]),
            second_date=long_date(plan[1]["due_on"]),
        )
    return fragment(
        domain, "utter_fragment_plan_one", amount=money(int(terms.get("payable_cents", 0)))
    )


class ActionStartCheckout(Action):
    def name(self) -> str:
        return "action_start_checkout"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        token = family_token(tracker)
        reset = [
            SlotSet("pay_installments", None),
            SlotSet("pay_accept", None),
            SlotSet("awaiting", None),
            SlotSet("repair_level", 0.0),
        ]
        if not token:
            dispatcher.utter_message(response="utter_need_identification")
            return reset + [SlotSet("checkout_ready", False)]
        try:
            terms = await backend.terms(token)
            cart = await backend.cart(token)
        except BackendError as err:
            backend_trouble(dispatcher, err.code)
            return reset + [SlotSet("checkout_ready", False)]
        if not cart.get("lines"):
            dispatcher.utter_message(response="utter_cart_empty_checkout")
            return reset + [SlotSet("checkout_ready", False)]
        if int(terms.get("payable_cents", 0)) == 0:
            dispatcher.utter_message(response="utter_waitlist_only")
            return reset + [SlotSet("checkout_ready", False)]
        events = reset + [SlotSet("checkout_ready", True)]
        allowed = [int(a) for a in terms.get("allowed", [1])]
        wanted = parsing.parse_installments(latest_text(tracker))
        if 2 not in allowed:
            if wanted == 2:
                dispatcher.utter_message(response=refused_response(terms.get("refused_reason")))
            events.append(SlotSet("pay_installments", "1"))
        elif wanted in (1, 2):
            events.append(SlotSet("pay_installments", str(wanted)))
        return events


class ValidateCheckoutForm(FormValidationAction):
    def name(self) -> str:
        return "validate_checkout_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if activating(tracker, "checkout_form") or not new_user_turn(tracker):
            return []
        requested = tracker.get_slot("requested_slot")
        text = latest_text(tracker)
        wanted = (
            parsing.parse_installments(text)
            if requested == "pay_installments" or "versement" in parsing.normalize(text)
            else None
        )
        if wanted:
            try:
                terms = await backend.terms(family_token(tracker))
            except BackendError as err:
                backend_trouble(dispatcher, err.code)
                return [SlotSet("ask_done", True)]
            if wanted == 2 and 2 not in [int(a) for a in terms.get("allowed", [1])]:
                dispatcher.utter_message(response=refused_response(terms.get("refused_reason")))
                if requested == "pay_accept":
                    # "non, je veux 2 versements" argues about the plan: its "non" does not decline
                    # the terms. The reason was given; the recap question is asked again.
                    return [SlotSet("repair_level", 0.0)]
                wanted = 1
            if str(wanted) != tracker.get_slot("pay_installments"):
                return [SlotSet("pay_installments", str(wanted)), SlotSet("repair_level", 0.0)]
        if requested == "pay_accept":
            answer = parsing.parse_yes_no(text)
            if answer is not None:
                return [
                    SlotSet("pay_accept", "yes" if answer else "no"),
                    SlotSet("repair_level", 0.0),
                ]
        if is_interruption(tracker):
            return []
        return repair_events(tracker)


async def _terms(tracker: Tracker) -> tuple[dict[str, Any], dict[str, Any]]:
    token = family_token(tracker)
    return await backend.terms(token), await backend.cart(token)


class AskInstallments(AskAction):
    slot = "pay_installments"

    async def question(self, dispatcher, tracker, domain):  # type: ignore[no-untyped-def]
        terms, _ = await _terms(tracker)
        two = terms.get("plans", {}).get("2") or [
            {"amount_cents": 0},
            {"amount_cents": 0, "due_on": "2000-01-01"},
        ]
        return (
            "utter_ask_pay_installments",
            {
                "total": money(int(terms.get("payable_cents", 0))),
                "first_amount": money(two[0]["amount_cents"]),
                "second_amount": money(two[1]["amount_cents"]),
                "second_date": long_date(two[1]["due_on"]),
            },
            [],
        )


class AskAccept(AskAction):
    slot = "pay_accept"

    async def question(self, dispatcher, tracker, domain):  # type: ignore[no-untyped-def]
        terms, cart = await _terms(tracker)
        installments = int(tracker.get_slot("pay_installments") or 1)
        return (
            "utter_ask_pay_accept",
            {
                "lines": render_cart(domain, cart),
                "total": money(int(terms.get("payable_cents", 0))),
                "plan_text": plan_text(domain, terms, installments),
            },
            yes_no_buttons(domain),
        )


class ActionCheckout(Action):
    def name(self) -> str:
        return "action_checkout"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        done = [
            SlotSet("pay_installments", None),
            SlotSet("pay_accept", None),
            SlotSet("checkout_ready", False),
            SlotSet("awaiting", None),
        ]
        if tracker.get_slot("pay_accept") != "yes":
            dispatcher.utter_message(response="utter_terms_declined")
            return done
        token = family_token(tracker)
        installments = int(tracker.get_slot("pay_installments") or 1)
        try:
            cart = await backend.cart(token)
            # the same cart confirmed twice (a retried message) must give the same order
            signature = (
                ",".join(str(line["id"]) for line in cart.get("lines", [])) + f"|{installments}"
            )
            key = hashlib.sha256(f"{tracker.sender_id}|{signature}".encode()).hexdigest()[:32]
            order = await backend.checkout(
                token,
                {
                    "installments": installments,
                    "accept_terms": True,
                    "card_on_file_consent": installments == 2,
                    "idempotency_key": key,
                },
            )
        except BackendError as err:
            if err.code == "installments_not_allowed":
                dispatcher.utter_message(response=refused_response(err.data.get("reason")))
            elif err.code == "cart_empty":
                dispatcher.utter_message(response="utter_cart_empty_checkout")
            elif err.code == "waitlist_only":
                dispatcher.utter_message(response="utter_waitlist_only")
            else:
                backend_trouble(dispatcher, err.code)
            return done
        if order.get("status") == "deferred":
            dispatcher.utter_message(response="utter_checkout_deferred")
        else:
            expires = order.get("pay_link_expires_at")
            dispatcher.utter_message(
                response="utter_checkout_link",
                url=order.get("payment_url", ""),
                expires=local_time(expires) if expires else "",
            )
        return done + [SlotSet("last_lines", None)]
