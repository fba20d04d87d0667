"""How the cart reads to a parent: its lines with prices, the hold's expiry, what comes next.

Every turn that changes the cart ends with `ask_next_step`: what changed has been said, the
cart shown, and the question is "Voulez-vous ajouter autre chose ou passer au paiement ?".
"""

from __future__ import annotations

from typing import Any

from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from .formatting import date_range, fragment, join_words, local_time, money


def option_label(domain: DomainDict, code: str) -> str:
    return fragment(domain, f"utter_fragment_option_{code}")


def group_text(domain: DomainDict, site: str | None, label: str) -> str:
    """ "Parc des Érables, 7-8 ans", or the label alone when the group has no site (swimming)."""
    return fragment(domain, "utter_fragment_group", site=site, label=label) if site else label


def line_when(domain: DomainDict, line: dict[str, Any]) -> str:
    dates = date_range(domain, line["starts_on"], line["ends_on"])
    if line.get("category") == "camp_de_jour" and line.get("week"):
        return fragment(domain, "utter_fragment_week", number=line["week"], dates=dates)
    return dates


def render_cart(domain: DomainDict, cart: dict[str, Any]) -> str:
    rows = []
    for index, line in enumerate(cart.get("lines", []), start=1):
        group = group_text(domain, line.get("site"), line.get("group", ""))
        common = {
            "index": index,
            "child": line.get("child", ""),
            "program": line.get("program", ""),
            "group": group,
            "week_text": line_when(domain, line),
        }
        if line.get("status") == "waitlisted":
            rows.append(
                fragment(
                    domain,
                    "utter_fragment_cart_line_waitlist",
                    position=line.get("waitlist_position"),
                    **common,
                )
            )
            continue
        opts = [option_label(domain, o["code"]) for o in line.get("options", [])]
        options_text = (
            fragment(domain, "utter_fragment_options_text", options=join_words(domain, opts))
            if opts
            else ""
        )
        rows.append(
            fragment(
                domain,
                "utter_fragment_cart_line",
                options_text=options_text,
                price=money(int(line.get("price_cents", 0))),
                **common,
            )
        )
    return "\n".join(rows)


def show_cart(dispatcher: CollectingDispatcher, domain: DomainDict, cart: dict[str, Any]) -> bool:
    if not cart.get("lines"):
        dispatcher.utter_message(response="utter_cart_empty")
        return False
    dispatcher.utter_message(
        response="utter_cart",
        lines=render_cart(domain, cart),
        total=money(int(cart.get("payable_cents", cart.get("total_cents", 0)))),
    )
    return True


def week_numbers_text(domain: DomainDict, numbers: list[int]) -> str:
    name = (
        "utter_fragment_week_numbers_one"
        if len(numbers) == 1
        else "utter_fragment_week_numbers_many"
    )
    return fragment(domain, name, numbers=join_words(domain, [str(n) for n in sorted(numbers)]))


def hold_until(cart: dict[str, Any], line_ids: list[int]) -> str:
    """ "19 h 32": when the first of these held places is released if not paid."""
    moments = [
        str(line["hold_expires_at"])
        for line in cart.get("lines", [])
        if int(line["id"]) in line_ids
        and line.get("status") == "held"
        and line.get("hold_expires_at")
    ]
    return local_time(min(moments)) if moments else ""


def ask_next_step(dispatcher: CollectingDispatcher) -> list[EventType]:
    dispatcher.utter_message(response="utter_ask_next_step")
    return [SlotSet("awaiting", "next_step")]
