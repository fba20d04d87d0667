"""A correction after the lines are in the cart: options ("finalement pas de service de
garde"), weeks ("je voulais dire la semaine 4"), or the child ("plutôt Thomas", at the same
site and level when the new child can take it)."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from . import facts, parsing
from .asking import backend_trouble
from .backend_client import BackendError, backend
from .cart_add import add_for_child, outcome_text
from .cart_view import ask_next_step, group_text, option_label, show_cart, week_numbers_text
from .context import Context, load
from .formatting import calendar_date, fragment, join_words
from .session import family_token
from .turns import latest_text
from .week_change import group_of_session, propose_weeks

log = logging.getLogger(__name__)


def weeks_said(text: str, ctx: Context, lines: list[dict[str, Any]]) -> list[int] | None:
    """The weeks the lines would have after the message ("remplace la 4 par la 6", "pas la 2,
    la 3", "tout juillet"), among the weeks of the lines' group."""
    with_week = [line for line in lines if line.get("week")]
    if not with_week:
        return None
    try:
        group = group_of_session(ctx, int(with_week[0]["session_id"]))
    except StopIteration:
        return None
    current = sorted({int(line["week"]) for line in with_week})
    reading = parsing.read_weeks(text, ctx.weeks_of_group(group["id"]), current, expect_weeks=True)
    return reading.weeks_after if reading and reading.weeks_after else None


def activity_said(text: str, ctx: Context, lines: list[dict[str, Any]]) -> str | None:
    """ "En fait juste le soccer pour Thomas": "held" when the lines already are that activity
    (at the park named, if one is), "other" for another activity (a registration), None when
    no activity is named."""
    program = parsing.best_match(text, ctx.program_names())
    if program is None:
        return None
    try:
        groups = [group_of_session(ctx, int(line["session_id"])) for line in lines]
    except StopIteration:
        return None
    held = [g for g in groups if ctx.program_of_group(g["id"])["id"] == program]
    if not held:
        return "other"
    site = parsing.best_match(text, ctx.site_names(program))
    return "held" if site is None or any(g.get("site_id") == site for g in held) else None


class ActionCorrect(Action):
    """A correction after the lines are in the cart: options, or the child."""

    def name(self) -> str:
        return "action_correct"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        token = family_token(tracker)
        last = [int(i) for i in tracker.get_slot("last_lines") or []]
        text = latest_text(tracker)
        if not token or not last:
            if await facts.names_a_registration(text):
                # nothing in the cart to correct: "camp pour Léa, la 2 pis la 4" asks for a
                # registration, whatever the model took it for
                return [FollowupAction("action_prepare_registration")]
            dispatcher.utter_message(response="utter_correction_unclear")
            return []
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
                    return propose_weeks(dispatcher, domain, ctx, lines, weeks)
                activity = activity_said(text, ctx, lines)
                if activity == "held":
                    dispatcher.utter_message(response="utter_cart_unchanged")
                    return ask_next_step(dispatcher)
                if activity == "other":
                    return [FollowupAction("action_prepare_registration")]
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
        return ask_next_step(dispatcher)

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
        # the same site and level when the new child can take them: only the child changes
        groups = [
            g
            for g in ctx.eligible_groups(program["id"], new_child)
            if g["site_id"] == old_group["site_id"] and g.get("level") == old_group.get("level")
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
        return [SlotSet("last_lines", ids), *ask_next_step(dispatcher)]
