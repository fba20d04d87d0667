"""Checkout: payment terms (1 or 2 versements, as the backend allows), acceptance of the
modalités de paiement, then the payment link (or, in a deferred season, why nothing is charged).

At either question the parent may answer as Québec parents do ("pas de problème", "laisse
faire"), ask a question (answered, then the same question comes back; a question is never a
yes), thank or greet (acknowledged, same question), or stop: « arrêter » keeps the checkout
where it was, so « continuer » comes back to it.
"""

from __future__ import annotations

import hashlib
import logging

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from . import parsing
from .asking import AskAction, backend_trouble, repair_events, yes_no_buttons
from .backend_client import BackendError, backend
from .checkout_terms import (
    allowed_installments,
    checkout_facts,
    delivery,
    hold_until,
    installment_variables,
    refused_response,
    terms_variables,
)
from .digressions import small_talk
from .formatting import local_time
from .helpdesk_faq import about_the_checkout
from .helpdesk_state import owes_on_an_order
from .reading import lexicon
from .session import family_token
from .turns import activating, is_interruption, latest_intent, latest_text, new_user_turn

log = logging.getLogger(__name__)

# Interruptions the checkout answers itself when they are questions about the terms.
_TERMS_QUESTIONS = {"ask_why", "out_of_scope"}
# words that make a number in the message a number of versements, whatever was asked
_PLAN_WORDS = ("versement", "fois", "paiement")


class ActionStartCheckout(Action):
    def name(self) -> str:
        return "action_start_checkout"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        token = family_token(tracker)
        resuming = latest_intent(tracker)[0] == "continue"
        kept = tracker.get_slot("pay_installments") if resuming else None
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
            if await owes_on_an_order(token):
                # « envoie-moi le lien » after the order was placed: a new link for it, not
                # « votre panier est vide »
                return reset + [
                    SlotSet("checkout_ready", False),
                    SlotSet("helpdesk_question", "state_link_problem"),
                    FollowupAction("action_helpdesk_state"),
                ]
            dispatcher.utter_message(response="utter_cart_empty_checkout")
            return reset + [SlotSet("checkout_ready", False)]
        if int(terms.get("payable_cents", 0)) == 0:
            family = await backend.family(token)
            dispatcher.utter_message(
                response="utter_waitlist_only", delivery=delivery(domain, family)
            )
            return reset + [SlotSet("checkout_ready", False)]
        events = reset + [SlotSet("checkout_ready", True)]
        allowed = allowed_installments(terms)
        wanted = parsing.parse_installments(latest_text(tracker))
        if kept and int(kept) in allowed:
            # « continuer » after « arrêter »: back to the question where the parent stopped
            dispatcher.utter_message(response="utter_checkout_resumed")
            wanted = int(kept)
        if 2 not in allowed:
            if wanted == 2:
                dispatcher.utter_message(response=refused_response(terms.get("refused_reason")))
            events.append(SlotSet("pay_installments", "1"))
        elif wanted in (1, 2):
            events.append(SlotSet("pay_installments", str(wanted)))
        return events


def _names_a_plan(text: str) -> bool:
    norm = parsing.normalize(text)
    return any(word in norm for word in _PLAN_WORDS)


def _stopping(tracker: Tracker, text: str) -> bool:
    """The parent asks to stop, and names no payment plan in the same message."""
    name, confidence = latest_intent(tracker)
    if name != "stop" or confidence < 0.6 or _names_a_plan(text):
        return False
    # « laisse faire » at the terms question is a no to the terms, read as such
    return tracker.get_slot("requested_slot") != "pay_accept" or parsing.read_answer(
        text
    ).kind.value not in ("yes", "no")


def _only_moves_on(rest: str) -> bool:
    """What follows the yes only asks to go on ("pis là ?"), and is no yes of its own: "oui
    ok pis là ?" moves on, "oui, c'est beau" and "parfait, merci" accept."""
    if not rest:
        return False
    # "c'est ben beau" is "c'est beau": the words around a phrase do not change it
    plain = lexicon.pattern("continue", "around").sub(" ", parsing.normalize(rest))
    for said in (rest, plain):
        read = parsing.read_answer(said)
        if read.kind.value == "yes" and len(read.rest) < len(said):
            return _only_moves_on(read.rest)
    return parsing.read_continue(rest) is parsing.Continuation.CONTINUE


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
        if _stopping(tracker, text):
            # « attends, arrête deux secondes »: its "deux" is not a number of versements; the
            # form lets go and the stop rule keeps the checkout where it was
            return []
        wanted = (
            parsing.parse_installments(text)
            if requested == "pay_installments" or _names_a_plan(text)
            else None
        )
        if wanted:
            changed = await self._installments(dispatcher, tracker, wanted)
            if changed is not None:
                return changed
        read = parsing.read_answer(text)
        answer = read.kind.value
        if answer == "yes" and parsing.read_continue(text) and _only_moves_on(read.rest):
            # "ok pis là ?" moves on; it does not accept the terms ("oui, c'est beau" and
            # "parfait, merci" do)
            answer = "unknown"
        if requested == "pay_accept" and answer in ("yes", "no"):
            return [SlotSet("pay_accept", answer), SlotSet("repair_level", 0.0)]
        intent = latest_intent(tracker)[0]
        # "pis là ?" asks for the next step, not about the terms: the question comes back
        if (
            answer == "question"
            and intent != "continue"
            and (
                intent in _TERMS_QUESTIONS
                or about_the_checkout(tracker)
                or not is_interruption(tracker)
            )
        ):
            return await self._answer_question(dispatcher, tracker, domain, requested)
        talk = small_talk(dispatcher, tracker)
        if talk is not None:
            return talk
        if is_interruption(tracker):
            return []
        return repair_events(tracker)

    @staticmethod
    async def _installments(
        dispatcher: CollectingDispatcher, tracker: Tracker, wanted: int
    ) -> list[EventType] | None:
        """Events for a number of versements named in the message; None when it changes nothing
        (the message is then read as an answer to the question asked)."""
        requested = tracker.get_slot("requested_slot")
        try:
            terms = await backend.terms(family_token(tracker) or "")
        except BackendError as err:
            backend_trouble(dispatcher, err.code)
            return [SlotSet("ask_done", True)]
        if wanted == 2 and 2 not in allowed_installments(terms):
            # said in the same turn, with the backend's reason; then the next question
            dispatcher.utter_message(response=refused_response(terms.get("refused_reason")))
            if requested == "pay_accept":
                # "non, je veux 2 versements" argues about the plan: its "non" does not decline
                # the terms. The reason was given; the recap question is asked again.
                return [SlotSet("repair_level", 0.0)]
            wanted = 1
        if str(wanted) != tracker.get_slot("pay_installments"):
            return [SlotSet("pay_installments", str(wanted)), SlotSet("repair_level", 0.0)]
        return None

    @staticmethod
    async def _answer_question(
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
        requested: str | None,
    ) -> list[EventType]:
        """A question at a prompt: the terms (or the versements) explained, the same question at
        the end of that message, and nothing answered for the parent."""
        try:
            variables = await terms_variables(tracker, domain)
        except BackendError as err:
            backend_trouble(dispatcher, err.code)
            return [SlotSet("ask_done", True)]
        response = (
            "utter_answer_pay_installments"
            if requested == "pay_installments"
            else "utter_answer_pay_accept"
        )
        dispatcher.utter_message(
            response=response,
            buttons=[] if requested == "pay_installments" else yes_no_buttons(domain),
            **variables,
        )
        return [SlotSet("ask_done", True), SlotSet("repair_level", 0.0)]


class AskInstallments(AskAction):
    slot = "pay_installments"

    async def question(self, dispatcher, tracker, domain):  # type: ignore[no-untyped-def]
        terms, _, _ = await checkout_facts(tracker)
        return ("utter_ask_pay_installments", installment_variables(terms), [])


class AskAccept(AskAction):
    slot = "pay_accept"

    async def question(self, dispatcher, tracker, domain):  # type: ignore[no-untyped-def]
        return (
            "utter_ask_pay_accept",
            await terms_variables(tracker, domain),
            yes_no_buttons(domain),
        )


class ActionStopCheckout(Action):
    """« arrêter » or « annuler » at a checkout question: the question is no longer pending (a
    later "oui" accepts nothing), the places stay held, and « continuer » comes back here."""

    def name(self) -> str:
        return "action_stop_checkout"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events: list[EventType] = [
            SlotSet("pay_accept", None),
            SlotSet("awaiting", None),
            SlotSet("repair_level", 0.0),
            SlotSet("ask_done", False),
        ]
        try:
            cart = await backend.cart(family_token(tracker) or "")
        except BackendError as err:
            log.info("cart unavailable when stopping the checkout: %s", err.code)
            dispatcher.utter_message(response="utter_stopped")
            return events
        dispatcher.utter_message(
            response="utter_checkout_stopped", hold_until=hold_until(domain, cart)
        )
        return events


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
        token = family_token(tracker) or ""
        if tracker.get_slot("pay_accept") != "yes":
            try:
                held = hold_until(domain, await backend.cart(token))
            except BackendError:
                held = hold_until(domain, {})
            dispatcher.utter_message(response="utter_terms_declined", hold_until=held)
            return done
        installments = int(tracker.get_slot("pay_installments") or 1)
        try:
            cart = await backend.cart(token)
            family = await backend.family(token)
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
                dispatcher.utter_message(
                    response="utter_waitlist_only", delivery=delivery(domain, {})
                )
            else:
                backend_trouble(dispatcher, err.code)
            return done
        where = delivery(domain, family)
        if order.get("status") == "deferred":
            dispatcher.utter_message(response="utter_checkout_deferred", delivery=where)
        else:
            expires = order.get("pay_link_expires_at")
            dispatcher.utter_message(
                response="utter_checkout_link",
                url=order.get("payment_url", ""),
                expires=local_time(expires) if expires else "",
                delivery=where,
            )
        return done + [SlotSet("last_lines", None)]
