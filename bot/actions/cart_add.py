"""Adding the registration draft to the cart: one request per child and set of options,
then what was held (until when), waitlisted (rank) or full, the cart, and the next step."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from .asking import backend_trouble
from .backend_client import BackendError, backend
from .cart_view import (
    ask_next_step,
    group_text,
    hold_until,
    option_label,
    show_cart,
    week_numbers_text,
)
from .context import Context, load
from .draft import State, clear_registration, next_step
from .formatting import calendar_date, fragment, local_datetime
from .per_child import child_options, child_weeks
from .session import family_token
from .waiting_room import join_and_tell

log = logging.getLogger(__name__)

ERROR_RESPONSES = {
    "account_pending": "utter_account_pending",
    "account_locked": "utter_account_locked",
}


def outcome_text(
    domain: DomainDict, results: list[dict[str, Any]], category: str, until: str = ""
) -> tuple[str, list[int]]:
    """One sentence per kind of outcome, and the ids of the new cart lines."""
    held, parts, line_ids = [], [], []
    for r in sorted(results, key=lambda r: r.get("week") or 0):
        number = r.get("week")
        if r.get("line_id"):
            line_ids.append(int(r["line_id"]))
        outcome = r.get("outcome")
        if outcome == "held":
            held.append(number)
        elif outcome == "waitlisted":
            parts.append(
                fragment(
                    domain,
                    "utter_fragment_waitlisted",
                    number=number,
                    position=r.get("waitlist_position"),
                )
            )
        elif outcome == "full":
            parts.append(fragment(domain, "utter_fragment_full_not_joined", number=number))
        elif outcome == "option_full":
            parts.append(
                fragment(
                    domain,
                    "utter_fragment_option_full",
                    number=number,
                    option=option_label(domain, str(r.get("option", ""))).lower(),
                )
            )
        elif outcome == "already_registered":
            parts.append(fragment(domain, "utter_fragment_already", number=number))
    if held:
        weeks = week_numbers_text(domain, held) if category == "camp_de_jour" else ""
        name = "utter_fragment_held_until" if until else "utter_fragment_held"
        held_text = fragment(domain, name, weeks=weeks, until=until)
        parts.insert(0, held_text.replace(" : .", ".").replace("  ", " "))
    return " ".join(parts), line_ids


async def add_for_child(
    ctx: Context,
    token: str,
    child_id: int,
    group_id: int,
    weeks: list[int],
    options: dict[str, list[int] | None],
    size: str | None,
    join_waitlist: bool,
) -> list[dict[str, Any]]:
    """POST the child's weeks, one request per distinct set of options (options can be per week)."""
    batches: dict[tuple[str, ...], list[int]] = {}
    for number in weeks:
        codes = tuple(sorted(c for c, only in options.items() if only is None or number in only))
        batches.setdefault(codes, []).append(number)
    results: list[dict[str, Any]] = []
    for codes, numbers in batches.items():
        sessions = {
            int(ctx.session(group_id, n)["id"]): n for n in numbers if ctx.session(group_id, n)
        }
        payload = {
            "child_id": child_id,
            "session_ids": list(sessions),
            "options": list(codes),
            "tshirt_size": size,
            "join_waitlist": join_waitlist,
        }
        answer = await backend.add_lines(token, payload)
        for r in answer.get("results", []):
            r.setdefault("week", sessions.get(int(r.get("session_id", 0))))
            results.append(r)
    return results


def explain_error(dispatcher: CollectingDispatcher, err: BackendError) -> None:
    if err.code in ERROR_RESPONSES:
        dispatcher.utter_message(response=ERROR_RESPONSES[err.code])
    elif err.code == "registration_not_open":
        opens = err.data.get("opens_at")
        dispatcher.utter_message(
            response="utter_not_open", opens_at=local_datetime(opens) if opens else ""
        )
    elif err.code == "not_eligible":
        dispatcher.utter_message(
            response="utter_not_eligible",
            child=err.data.get("child", ""),
            age=err.data.get("age", ""),
            min_age=err.data.get("min_age", ""),
            max_age=err.data.get("max_age", ""),
            program=err.data.get("program", ""),
            reference_date=calendar_date(err.data["reference_date"])
            if err.data.get("reference_date")
            else "",
        )
    else:
        backend_trouble(dispatcher, err.code)


class ActionAddToCart(Action):
    def name(self) -> str:
        return "action_add_to_cart"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        token = family_token(tracker)
        state = State.from_tracker(tracker)
        if next_step(state) is not None:
            # the form was let go before the draft was complete (the help line was given):
            # nothing is added, the draft stays for « continuer »
            return [SlotSet("repair_level", 0.0)]
        new_lines: list[int] = []
        added: list[tuple[int, int, list[dict[str, Any]]]] = []
        try:
            ctx = await load(token, fresh_catalog=True)
            program = ctx.program(state.program)
            for child_id in state.child or []:
                group_id = int((state.group or {})[str(child_id)])
                size = state.tshirt.get(str(child_id)) if isinstance(state.tshirt, dict) else None
                valid = [w.number for w in ctx.weeks_of_group(group_id)]
                results = await add_for_child(
                    ctx,
                    token,
                    child_id,
                    group_id,
                    child_weeks(state, child_id, valid),
                    child_options(state, child_id),
                    size,
                    state.waitlist == "yes",
                )
                added.append((child_id, group_id, results))
            cart = await backend.cart(token)
        except BackendError as err:
            waiting = err.code == "waiting_room"
            if waiting and await join_and_tell(dispatcher, tracker, domain, token or ""):
                # nothing was added; the draft stays for « continuer » once admitted
                dispatcher.utter_message(response="utter_waiting_room_draft_kept")
                return [SlotSet("repair_level", 0.0)]
            explain_error(dispatcher, err)
            return clear_registration()
        for child_id, group_id, results in added:
            ids = [int(r["line_id"]) for r in results if r.get("line_id")]
            text, ids = outcome_text(
                domain, results, program.get("category", ""), hold_until(cart, ids)
            )
            new_lines += ids
            group = ctx.group(group_id)
            dispatcher.utter_message(
                response="utter_added",
                child=ctx.child(child_id)["first_name"],
                program=program["name"],
                group=group_text(domain, group.get("site"), group["label"]),
                weeks_text=text,
            )
        show_cart(dispatcher, domain, cart)
        return clear_registration() + [SlotSet("last_lines", new_lines), *ask_next_step(dispatcher)]
