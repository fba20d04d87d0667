"""Reading the tracker: the parent's latest words and intent, and where a form stands.

Interruptions inside a form (a question about the account, "pourquoi ?", the cart) are
answered by a rule and the form asks again. Small talk ("merci", "bonjour", "ok pis là ?")
is answered by the form's own validator, which keeps the step and its repair level.
"""

from __future__ import annotations

from rasa_sdk import Tracker

from .reading.stopping import asks_to_stop

# Intents that interrupt a form: the validator lets the form reject the turn so a rule answers
# them, then the form asks its question again.
INTERRUPTIONS = {
    "ask_why",
    "ask_human",
    "faq_account_pending",
    "faq_fiche_sante",
    "out_of_scope",
    "cart_view",
    "stop",
    "resend_code",
    "sign_out",
    "not_me",
    "faq",
}

# Intents that say nothing about the step: answered in the form, the same question follows,
# and the repair ladder does not climb.
SMALL_TALK = {"thank", "greet", "continue"}

# A message longer than this is not read: the parent is told so instead of "pas compris".
LONGEST_MESSAGE = 800


def latest_text(tracker: Tracker) -> str:
    """The parent's latest words; button payloads like "/checkout" carry no words."""
    text = (tracker.latest_message or {}).get("text") or ""
    return "" if text.startswith("/") else text


def latest_intent(tracker: Tracker) -> tuple[str, float]:
    intent = (tracker.latest_message or {}).get("intent") or {}
    return str(intent.get("name") or ""), float(intent.get("confidence") or 0.0)


def is_interruption(tracker: Tracker) -> bool:
    name, confidence = latest_intent(tracker)
    if name == "stop" and not asks_to_stop(latest_text(tracker)):
        return False  # "ça va être toute" is read as an answer, not a stop
    return name in INTERRUPTIONS and confidence >= 0.6


def small_talk(tracker: Tracker) -> str | None:
    """ "thank", "greet" or "continue" when that is all the latest message is."""
    name, confidence = latest_intent(tracker)
    return name if name in SMALL_TALK and confidence >= 0.6 else None


def too_long(text: str) -> bool:
    return len(text) > LONGEST_MESSAGE


def new_user_turn(tracker: Tracker) -> bool:
    """True when a form validator runs on what the parent just said.

    Rasa hands the validator a tracker ending with the form's own ActionExecuted (and slot
    events); what comes before it tells a fresh user message from a form resuming after a rule
    answered an interruption ("pourquoi ?"), where there is nothing new to validate.
    """
    skipped_form = False
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind in ("slot", "user_featurization", "active_loop"):
            continue
        if kind == "action" and not skipped_form and str(event.get("name", "")).endswith("_form"):
            skipped_form = True
            continue
        if kind == "action" and event.get("name") == "action_listen":
            return False
        return kind == "user"
    return False


def activating(tracker: Tracker, form: str) -> bool:
    """The validator runs as the form starts (the form is not the active loop yet)."""
    return (tracker.active_loop or {}).get("name") != form
