"""The cart: add what the registration form gathered (holds, waitlist), show it, remove a
line, correct a line after the fact ("finalement pas de service de garde", "plutôt Thomas")."""

from __future__ import annotations

import logging
import re
from datetime import date
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from . import parsing
from .backend_client import BackendError, backend
from .common import backend_trouble, latest_text
from .context import Context, load
from .formatting import (
    calendar_date,
    date_range,
    fragment,
    join_words,
    local_datetime,
    money,
)
from .registration import State, clear_registration
from .session import family_token

log = logging.getLogger(__name__)

ERROR_RESPONSES = {
    "account_pending": "utter_account_pending",
    "account_locked": "utter_account_locked",
}


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


def outcome_text(
    domain: DomainDict, results: list[dict[str, Any]], category: str
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
        parts.insert(
            0,
            fragment(domain, "utter_fragment_held", weeks=weeks)
            .replace(" : .", ".")
            .replace("  ", " "),
        )
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
        new_lines: list[int] = []
        try:
            ctx = await load(token, fresh_catalog=True)
            program = ctx.program(state.program)
            for child_id in state.child or []:
                group_id = int((state.group or {})[str(child_id)])
                size = state.tshirt.get(str(child_id)) if isinstance(state.tshirt, dict) else None
                results = await add_for_child(
                    ctx,
                    token,
                    child_id,
                    group_id,
                    state.weeks or [],
                    state.options or {},
                    size,
                    state.waitlist == "yes",
                )
                text, ids = outcome_text(domain, results, program.get("category", ""))
                new_lines += ids
                group = ctx.group(group_id)
                dispatcher.utter_message(
                    response="utter_added",
                    child=ctx.child(child_id)["first_name"],
                    program=program["name"],
                    group=group_text(domain, group.get("site"), group["label"]),
                    weeks_text=text,
                )
            cart = await backend.cart(token)
        except BackendError as err:
            explain_error(dispatcher, err)
            return clear_registration()
        show_cart(dispatcher, domain, cart)
        dispatcher.utter_message(response="utter_ask_next_step")
        return clear_registration() + [
            SlotSet("last_lines", new_lines),
            SlotSet("awaiting", "next_step"),
        ]


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
            dispatcher.utter_message(response="utter_ask_next_step")
            return [SlotSet("awaiting", "next_step")]
        return []


def lines_meant(
    text: str, cart: dict[str, Any], ctx: Context | None, last: list[int]
) -> list[dict[str, Any]]:
    """The cart lines a removal message points at.

    "la semaine 3", "la ligne 2", "le soccer", "Thomas".
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
    weeks = parsing.parse_weeks(text, list(unique.values()), expect_weeks=True) if unique else None
    chosen = lines
    if ctx is not None:
        kids = parsing.parse_children(text, ctx.children)
        if kids:
            chosen = [line for line in chosen if line.get("child_id") in kids]
        program = parsing.best_match(text, ctx.program_names())
        if program is not None:
            name = ctx.program(program)["name"]
            chosen = [line for line in chosen if line.get("program") == name]
        if not kids and program is None and not weeks:
            return []
    if weeks:
        # several children at the same week: the latest registration is the likely one
        chosen = [line for line in chosen if line.get("week") in weeks]
        latest = [line for line in chosen if line.get("id") in last]
        if latest and len({line.get("child_id") for line in chosen}) > 1:
            chosen = latest
    return chosen


def group_of_session(ctx: Context, session_id: int) -> dict[str, Any]:
    return next(
        g
        for p in ctx.programs
        for g in p["groups"]
        if any(int(s["id"]) == session_id for s in g["sessions"])
    )


def weeks_said(text: str, ctx: Context, lines: list[dict[str, Any]]) -> list[int] | None:
    """The weeks a correction names, among the weeks of the lines' group ("la semaine 4")."""
    with_week = [line for line in lines if line.get("week")]
    if not with_week:
        return None
    try:
        group = group_of_session(ctx, int(with_week[0]["session_id"]))
    except StopIteration:
        return None
    return parsing.parse_weeks(text, ctx.weeks_of_group(group["id"]), expect_weeks=True) or None


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
                dispatcher.utter_message(response="utter_line_not_found")
                return []
            for line in targets:
                cart = await backend.delete_line(token, int(line["id"]))
        except BackendError as err:
            backend_trouble(dispatcher, err.code)
            return []
        removed = [f"{line.get('child', '')} — {line_when(domain, line)}" for line in targets]
        dispatcher.utter_message(response="utter_line_removed", removed=join_words(domain, removed))
        show_cart(dispatcher, domain, cart)
        return []


class ActionCorrect(Action):
    """A correction after the lines are in the cart: options, or the child."""

    def name(self) -> str:
        return "action_correct"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        token = family_token(tracker)
        last = [int(i) for i in tracker.get_slot("last_lines") or []]
        if not token or not last:
            dispatcher.utter_message(response="utter_correction_unclear")
            return []
        text = latest_text(tracker)
        try:
            cart = await backend.cart(token)
            ctx = await load(token, fresh_catalog=True)
            lines = [line for line in cart.get("lines", []) if int(line["id"]) in last]
            if not lines:
                dispatcher.utter_message(response="utter_correction_unclear")
                return []
            kids = parsing.parse_children(text, ctx.children)
            if kids and kids[0] not in {line["child_id"] for line in lines}:
                return await self._switch_child(dispatcher, domain, ctx, token, lines, kids[0])
            choice = parsing.parse_options(text, ctx.weeks_of_program(None))
            if choice.empty:
                weeks = weeks_said(text, ctx, lines)
                if weeks:
                    return await self._change_weeks(dispatcher, domain, ctx, token, lines, weeks)
                dispatcher.utter_message(response="utter_correction_unclear")
                return []
            for line in lines:
                if line.get("status") != "held":
                    continue
                codes = {o["code"] for o in line.get("options", [])}
                for code, wanted in choice.wanted.items():
                    only = choice.weeks.get(code)
                    if only and line.get("week") not in only:
                        continue
                    codes = codes | {code} if wanted else codes - {code}
                cart = await backend.patch_line(token, int(line["id"]), {"options": sorted(codes)})
        except BackendError as err:
            if err.code == "option_full":
                dispatcher.utter_message(
                    response="utter_fragment_option_full",
                    number=err.data.get("week", ""),
                    option=option_label(domain, str(err.data.get("option", ""))).lower(),
                )
                return []
            backend_trouble(dispatcher, err.code)
            return []
        updated = [
            line
            for line in cart.get("lines", [])
            if int(line["id"]) in last and line.get("status") == "held"
        ]
        opts = sorted({o["code"] for line in updated for o in line.get("options", [])})
        options_text = join_words(
            domain, [option_label(domain, c).lower() for c in opts]
        ) or fragment(domain, "utter_fragment_no_option")
        weeks = week_numbers_text(domain, [line["week"] for line in updated if line.get("week")])
        dispatcher.utter_message(
            response="utter_options_updated",
            child=updated[0]["child"] if updated else "",
            options_text=options_text,
            weeks=weeks,
        )
        show_cart(dispatcher, domain, cart)
        return []

    async def _change_weeks(
        self,
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
            return []
        show_cart(dispatcher, domain, await backend.cart(token))
        return [SlotSet("last_lines", kept_ids)]

    async def _switch_child(
        self,
        dispatcher: CollectingDispatcher,
        domain: DomainDict,
        ctx: Context,
        token: str,
        lines: list[dict[str, Any]],
        new_child: int,
    ) -> list[EventType]:
        first = lines[0]
        old_group = group_of_session(ctx, int(first["session_id"]))
        program = ctx.program_of_group(old_group["id"])
        groups = [
            g
            for g in ctx.eligible_groups(program["id"], new_child)
            if g["site_id"] == old_group["site_id"]
        ]
        if not groups:
            low, high = ctx.program_age_span(program["id"])
            dispatcher.utter_message(
                response="utter_not_eligible",
                child=ctx.child(new_child)["first_name"],
                age=ctx.age(new_child),
                reference_date=calendar_date(ctx.reference_date()),
                program=program["name"],
                min_age=low,
                max_age=high,
            )
            return []
        dispatcher.utter_message(
            response="utter_child_switched",
            old_child=first["child"],
            new_child=ctx.child(new_child)["first_name"],
        )
        weeks = sorted({int(line["week"]) for line in lines if line.get("week")})
        options = {o["code"]: None for o in first.get("options", [])}
        for line in lines:
            await backend.delete_line(token, int(line["id"]))
        size = ctx.child(new_child).get("tshirt_size") if program.get("needs_tshirt") else None
        results = await add_for_child(
            ctx,
            token,
            new_child,
            groups[0]["id"],
            weeks,
            options,
            size,
            any(line.get("status") == "waitlisted" for line in lines),
        )
        text, ids = outcome_text(domain, results, program.get("category", ""))
        dispatcher.utter_message(
            response="utter_added",
            child=ctx.child(new_child)["first_name"],
            program=program["name"],
            group=group_text(domain, groups[0].get("site"), groups[0]["label"]),
            weeks_text=text,
        )
        show_cart(dispatcher, domain, await backend.cart(token))
        return [SlotSet("last_lines", ids)]
