"""A week edit after the cart: shown first, changed only once the parent agrees.

"Remplace la 4 par la 6", "tout juillet", "pas la 2, la 3": the weeks the registration would
have are said with their dates (the reading stated), and the question is whether to make the
change. On « oui », a week swapped for another is one backend operation (the new place held
before the old one is released); other new weeks are taken first and the old ones given back
only when every new one was taken, so a held place is never lost for a week that is full.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from .asking import backend_trouble, yes_no_buttons
from .backend_client import BackendError, backend
from .cart_add import add_for_child, outcome_text
from .cart_view import ask_next_step, show_cart, week_numbers_text
from .context import Context, load
from .formatting import date_range, fragment, join_words
from .session import family_token

log = logging.getLogger(__name__)

# a backend without the one-transaction replace: fall back to add-then-remove
NO_REPLACE = {"not_found", "method_not_allowed"}

# The rules that run these actions hold while `awaiting` is week_change; the actions end on
# the next-step question (awaiting next_step), where no rule would say to wait for the
# parent, so they say it themselves.
LISTEN: list[EventType] = [FollowupAction("action_listen")]


def group_of_session(ctx: Context, session_id: int) -> dict[str, Any]:
    return next(
        g
        for p in ctx.programs
        for g in p["groups"]
        if any(int(s["id"]) == session_id for s in g["sessions"])
    )


def propose_weeks(
    dispatcher: CollectingDispatcher,
    domain: DomainDict,
    ctx: Context,
    lines: list[dict[str, Any]],
    weeks: list[int],
) -> list[EventType]:
    current = sorted({int(line["week"]) for line in lines if line.get("week")})
    if weeks == current:
        dispatcher.utter_message(response="utter_cart_unchanged")
        return ask_next_step(dispatcher)
    group = group_of_session(ctx, int(lines[0]["session_id"]))
    named = {w.number: w for w in ctx.weeks_of_group(group["id"])}
    labels = [
        fragment(
            domain,
            "utter_fragment_week",
            number=n,
            dates=date_range(domain, named[n].starts_on, named[n].ends_on),
        )
        for n in weeks
        if n in named
    ]
    children = join_words(domain, sorted({str(line["child"]) for line in lines}))
    dispatcher.utter_message(
        response="utter_confirm_weeks",
        child=children,
        weeks_text=join_words(domain, labels),
        buttons=yes_no_buttons(domain),
    )
    return [SlotSet("week_change", {"weeks": weeks}), SlotSet("awaiting", "week_change")]


class ActionKeepWeeks(Action):
    def name(self) -> str:
        return "action_keep_weeks"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_weeks_not_changed")
        return [SlotSet("week_change", None), *ask_next_step(dispatcher), *LISTEN]


class ActionApplyWeekChange(Action):
    def name(self) -> str:
        return "action_apply_week_change"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        return [*await self._apply(dispatcher, tracker, domain), *LISTEN]

    async def _apply(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        token = family_token(tracker)
        weeks = [int(n) for n in (tracker.get_slot("week_change") or {}).get("weeks", [])]
        last = [int(i) for i in tracker.get_slot("last_lines") or []]
        done: list[EventType] = [SlotSet("week_change", None)]
        try:
            cart = await backend.cart(token)
            ctx = await load(token, fresh_catalog=True)
            lines = [line for line in cart.get("lines", []) if int(line["id"]) in last]
            if not lines or not weeks:
                dispatcher.utter_message(response="utter_correction_unclear")
                return done + ask_next_step(dispatcher)
            return done + await change_weeks(dispatcher, domain, ctx, token, lines, weeks)
        except BackendError as err:
            backend_trouble(dispatcher, err.code)
            return done + ask_next_step(dispatcher)


async def swap(
    ctx: Context, token: str, group_id: int, line: dict[str, Any], week: int
) -> dict[str, Any] | None:
    """One week for another in one backend operation; None when the backend cannot."""
    session = ctx.session(group_id, week)
    if session is None:
        return None
    try:
        answer = await backend.replace_line(token, int(line["id"]), int(session["id"]))
    except BackendError as err:
        if err.code == "session_full":
            return {"session_id": session["id"], "week": week, "outcome": "full"}
        if err.status in (404, 405) or err.code in NO_REPLACE:
            return None
        raise
    return {
        "session_id": session["id"],
        "week": week,
        "outcome": answer.get("outcome", "held"),
        "line_id": answer.get("line_id"),
        "waitlist_position": answer.get("waitlist_position"),
    }


async def change_weeks(
    dispatcher: CollectingDispatcher,
    domain: DomainDict,
    ctx: Context,
    token: str,
    lines: list[dict[str, Any]],
    weeks: list[int],
) -> list[EventType]:
    """ "Je voulais dire la semaine 4": the latest registration's weeks become the ones said.
    New weeks are taken first; the old ones are given back only when every new one was
    taken (or waitlisted), so a full week never costs the parent the place they had."""
    kept_ids: list[int] = []
    changed = False
    by_child: dict[int, list[dict[str, Any]]] = {}
    for line in lines:
        by_child.setdefault(int(line["child_id"]), []).append(line)
    for child_id, child_lines in by_child.items():
        current = {int(line["week"]): line for line in child_lines if line.get("week")}
        to_add = [w for w in weeks if w not in current]
        to_remove = [line for w, line in current.items() if w not in weeks]
        if not to_add and not to_remove:
            kept_ids += [int(line["id"]) for line in child_lines]
            continue
        changed = True
        first = child_lines[0]
        group = group_of_session(ctx, int(first["session_id"]))
        program = ctx.program_of_group(group["id"])
        results: list[dict[str, Any]] = []
        released: list[dict[str, Any]] = []  # given back by the backend's replace itself
        if len(to_add) == 1 and len(to_remove) == 1:
            swapped = await swap(ctx, token, group["id"], to_remove[0], to_add[0])
            if swapped is not None and swapped["outcome"] != "full":
                released, to_add, to_remove = to_remove, [], []
                results = [swapped]
            elif swapped is not None:
                to_add, results = [], [swapped]
        if to_add:
            options = {o["code"]: None for o in first.get("options", [])}
            results = await add_for_child(
                ctx,
                token,
                child_id,
                group["id"],
                to_add,
                options,
                first.get("tshirt_size"),
                False,
            )
        text, new_ids = outcome_text(domain, results, program.get("category", ""))
        if any(r.get("outcome") == "full" for r in results):
            dispatcher.utter_message(
                response="utter_weeks_kept",
                child=first["child"],
                weeks_text=text,
                weeks=week_numbers_text(domain, sorted(current)),
            )
            kept_ids += [int(line["id"]) for line in child_lines] + new_ids
            continue
        for line in to_remove:
            await backend.delete_line(token, int(line["id"]))
        to_remove += released
        removed = (
            week_numbers_text(domain, sorted(int(line["week"]) for line in to_remove))
            if to_remove
            else ""
        )
        dispatcher.utter_message(
            response="utter_weeks_corrected",
            child=first["child"],
            weeks_text=text,
            removed_text=fragment(domain, "utter_fragment_removed", weeks=removed)
            if removed
            else "",
        )
        kept_ids += [int(line["id"]) for line in child_lines if line not in to_remove] + new_ids
    if not changed:
        dispatcher.utter_message(response="utter_cart_unchanged")
        return ask_next_step(dispatcher)
    show_cart(dispatcher, domain, await backend.cart(token))
    return [SlotSet("last_lines", kept_ids), *ask_next_step(dispatcher)]
