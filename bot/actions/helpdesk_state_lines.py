"""The family's registrations as the help desk words them: one line per child and week, with
what it is (confirmed, held in the cart, offered, on the waitlist with its rank)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .formatting import fragment, local_datetime, money

STATUS_FRAGMENTS = {
    "confirmed": "utter_fragment_state_confirmed",
    "held": "utter_fragment_state_held",
    "offered": "utter_fragment_state_offered",
    "waitlisted": "utter_fragment_state_waitlisted",
}


def all_lines(status: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [line for child in status.get("children", []) for line in child.get("lines", [])]


def what(domain: Mapping[str, Any], line: Mapping[str, Any]) -> str:
    """« Léa — Camp de jour, Parc des Érables, 9-12 ans, semaine 2 »."""
    group = (
        fragment(domain, "utter_fragment_group", site=line["site"], label=line["group"])
        if line.get("site")
        else line["group"]
    )
    return fragment(
        domain,
        "utter_fragment_state_what",
        child=line["child"],
        program=line["program"],
        group=group,
        week=line["week"],
    )


def described(domain: Mapping[str, Any], line: Mapping[str, Any]) -> str:
    """The line and its state, for a list shown to the parent."""
    until = line.get("hold_expires_at") or line.get("offer_expires_at")
    return fragment(
        domain,
        STATUS_FRAGMENTS.get(str(line["status"]), "utter_fragment_state_confirmed"),
        what=what(domain, line),
        position=line.get("waitlist_position") or "",
        until=local_datetime(until) if until else "",
        price=money(int(line.get("price_cents") or 0)),
    )


def listing(domain: Mapping[str, Any], lines: Iterable[Mapping[str, Any]]) -> str:
    return "\n".join(f"- {described(domain, line)}" for line in lines)
