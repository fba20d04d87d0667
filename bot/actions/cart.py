"""The cart after the fact: show it, remove exactly the lines named ("enlève la semaine 3",
"la ligne 2", "le niveau 5 de Thomas"), each turn ending with the next step's question."""

from __future__ import annotations

import logging
import re
from datetime import date
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from . import cart_add, cart_correct, parsing  # noqa: F401 - they register their actions
from .asking import backend_trouble
from .backend_client import BackendError, backend
from .cart_view import ask_next_step, line_when, render_cart, show_cart
from .context import Context, load
from .formatting import join_words
from .reading.cancelling import cancels_a_registration
from .session import family_token
from .turns import latest_text

__all__ = ["render_cart"]

log = logging.getLogger(__name__)


class ActionShowCart(Action):
    def name(self) -> str:
        return "action_show_cart"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        token = family_token(tracker)
        if not token:
            dispatcher.utter_message(response="utter_need_identification")
            return []
        try:
            cart = await backend.cart(token)
        except BackendError as err:
            backend_trouble(dispatcher, err.code)
            return []
        filled = show_cart(dispatcher, domain, cart)
        if filled and not (tracker.active_loop or {}).get("name"):
            return ask_next_step(dispatcher)
        return []


def lines_meant(
    text: str, cart: dict[str, Any], ctx: Context | None, last: list[int]
) -> list[dict[str, Any]]:
    """The cart lines a removal message points at.

    "la semaine 3", "la ligne 2", "le soccer", "Thomas", "le niveau 5 de Thomas".
    """
    lines = cart.get("lines", [])
    norm = parsing.normalize(text)
    by_index = re.search(r"\bligne\s*(\d+)\b", norm)
    if by_index:
        i = int(by_index.group(1))
        return [lines[i - 1]] if 0 < i <= len(lines) else []
    weeks_pool = [
        parsing.Week(
            int(line["week"]),
            date.fromisoformat(line["starts_on"]),
            date.fromisoformat(line["ends_on"]),
        )
        for line in lines
        if line.get("week")
    ]
    unique = {w.number: w for w in weeks_pool}
    level = parsing.parse_level(text)
    reading = (
        parsing.read_weeks(text, list(unique.values()), sorted(unique), expect_weeks=True)
        if unique and level is None
        else None
    )
    # the weeks the message names ("enlève la semaine 3" names 3), not what would remain
    weeks = sorted({n for m in reading.mentions for n in m.weeks}) if reading else None
    chosen = lines
    if ctx is not None and level is not None:
        sessions = {
            int(s["id"])
            for p in ctx.programs
            for g in p["groups"]
            if g.get("level") == level
            for s in g["sessions"]
        }
        chosen = [line for line in chosen if int(line["session_id"]) in sessions]
    if ctx is not None:
        kids = parsing.parse_children(text, ctx.children)
        if kids:
            chosen = [line for line in chosen if line.get("child_id") in kids]
        program = parsing.best_match(text, ctx.program_names())
        if program is not None:
            name = ctx.program(program)["name"]
            chosen = [line for line in chosen if line.get("program") == name]
        if not kids and program is None and not weeks and level is None:
            return []
    if weeks:
        # several children at the same week: the latest registration is the likely one
        chosen = [line for line in chosen if line.get("week") in weeks]
        latest = [line for line in chosen if line.get("id") in last]
        if latest and len({line.get("child_id") for line in chosen}) > 1:
            chosen = latest
    return chosen


class ActionRemoveLine(Action):
    def name(self) -> str:
        return "action_remove_line"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        token = family_token(tracker)
        if not token:
            dispatcher.utter_message(response="utter_need_identification")
            return []
        try:
            cart = await backend.cart(token)
            ctx = await load(token)
            targets = lines_meant(
                latest_text(tracker), cart, ctx, tracker.get_slot("last_lines") or []
            )
            if not targets:
                if cancels_a_registration(latest_text(tracker)):
                    # not in the cart: a registration already made, to cancel
                    return [FollowupAction("action_helpdesk_cancel")]
                dispatcher.utter_message(response="utter_line_not_found")
                return []
            for line in targets:
                cart = await backend.delete_line(token, int(line["id"]))
        except BackendError as err:
            backend_trouble(dispatcher, err.code)
            return []
        removed = [f"{line.get('child', '')} — {line_when(domain, line)}" for line in targets]
        dispatcher.utter_message(response="utter_line_removed", removed=join_words(domain, removed))
        gone = {int(line["id"]) for line in targets}
        last = [i for i in tracker.get_slot("last_lines") or [] if int(i) not in gone]
        if not show_cart(dispatcher, domain, cart):
            return [SlotSet("last_lines", last)]
        return [SlotSet("last_lines", last), *ask_next_step(dispatcher)]
