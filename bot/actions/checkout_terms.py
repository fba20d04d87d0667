"""What the parent is agreeing to, in the words of the domain: the payment plan, how long the
places stay held, and where the payment link goes (texto, courriel, or both, from the family
file: never a courriel promised to a family that has none)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.types import DomainDict

from .backend_client import backend
from .cart import render_cart
from .formatting import fragment, local_time, long_date, money
from .session import family_token

REFUSAL_REASONS = ("not_day_camp", "below_minimum", "too_close_to_start")


def refused_response(reason: str | None) -> str:
    """The response for the backend's `installments_not_allowed` reason (its code, not ours)."""
    return (
        f"utter_installments_refused_{reason}"
        if reason in REFUSAL_REASONS
        else "utter_installments_refused_not_day_camp"
    )


def allowed_installments(terms: dict[str, Any]) -> list[int]:
    return [int(a) for a in terms.get("allowed", [1])]


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


def installment_variables(terms: dict[str, Any]) -> dict[str, str]:
    """The figures of the "1 or 2 versements" question and its explanations."""
    two = terms.get("plans", {}).get("2") or [
        {"amount_cents": 0},
        {"amount_cents": 0, "due_on": "2000-01-01"},
    ]
    return {
        "total": money(int(terms.get("payable_cents", 0))),
        "first_amount": money(two[0]["amount_cents"]),
        "second_amount": money(two[1]["amount_cents"]),
        "second_date": long_date(two[1]["due_on"]),
    }


def hold_until(domain: DomainDict, cart: dict[str, Any]) -> str:
    """ "jusqu'à 19 h 32": the earliest expiry of the cart's held places (the first to go)."""
    expiries = sorted(
        str(line["hold_expires_at"])
        for line in cart.get("lines", [])
        if line.get("status") in ("held", "offered") and line.get("hold_expires_at")
    )
    if not expiries:
        return fragment(domain, "utter_fragment_hold_unknown")
    return fragment(domain, "utter_fragment_hold_until", time=local_time(expiries[0]))


def delivery(domain: DomainDict, family: dict[str, Any]) -> str:
    """Where the backend sends the link and the confirmation, from what the family file has."""
    phone, email = bool(family.get("phone_masked")), bool(family.get("email_masked"))
    if phone and email:
        return fragment(domain, "utter_fragment_by_sms_and_email")
    if email:
        return fragment(domain, "utter_fragment_by_email")
    return fragment(domain, "utter_fragment_by_sms")


async def checkout_facts(
    tracker: Tracker,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(terms, cart, family) for this conversation's family, read from the backend."""
    token = family_token(tracker) or ""
    return await backend.terms(token), await backend.cart(token), await backend.family(token)


async def terms_variables(tracker: Tracker, domain: DomainDict) -> dict[str, str]:
    """Everything a sentence about the terms may name: the cart, total, plan, hold, delivery."""
    terms, cart, family = await checkout_facts(tracker)
    installments = int(tracker.get_slot("pay_installments") or 1)
    return {
        "lines": render_cart(domain, cart),
        "total": money(int(terms.get("payable_cents", 0))),
        "plan_text": plan_text(domain, terms, installments),
        "hold_until": hold_until(domain, cart),
        "delivery": delivery(domain, family),
        **{k: v for k, v in installment_variables(terms).items() if k != "total"},
    }
