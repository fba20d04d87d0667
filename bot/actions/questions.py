"""The registration's step questions (action_ask_reg_*): each built from the draft alone.

Lists of choices are written with babel's format_list ("Léa ou Thomas ?") through
formatting.or_words; the buttons carry the same choices (the SMS channel numbers them).
"""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.types import DomainDict

from . import parsing
from .asking import AskAction, buttons, yes_no_buttons
from .context import Context, load
from .draft import State
from .formatting import date_range, fragment, join_words, money, or_words
from .groups import full_weeks, group_choices, group_name, next_tshirt_child
from .session import family_token

Question = tuple[str, dict, list[dict[str, str]]] | None

# one question per option, asked in this order
OPTION_QUESTIONS = {
    "garde": "utter_ask_reg_options_garde",
    "velo": "utter_ask_reg_options_velo",
}


async def _ctx_state(tracker: Tracker) -> tuple[Context, State]:
    return await load(family_token(tracker)), State.from_tracker(tracker)


def choice_text(names: list[str]) -> str:
    """ "Léa ou Thomas ?" — the choices ending the question."""
    return or_words(names) + " ?" if names else ""


class AskChild(AskAction):
    slot = "reg_child"

    async def question(self, dispatcher, tracker, domain) -> Question:  # type: ignore[no-untyped-def]
        ctx, _ = await _ctx_state(tracker)
        names = [c.first_name for c in ctx.children]
        options = [(n, n) for n in names]
        if len(names) > 1:
            both = fragment(domain, "utter_fragment_both")
            options.append((both, both))
        variables = {
            "children_choice": choice_text(names),
            "example_child": names[0],
            "children_list": join_words(domain, names),
        }
        return "utter_ask_reg_child", variables, buttons(options)


class AskProgram(AskAction):
    slot = "reg_program"

    async def question(self, dispatcher, tracker, domain) -> Question:  # type: ignore[no-untyped-def]
        ctx, state = await _ctx_state(tracker)
        names = [p["name"] for p in ctx.eligible_programs(state.child or [])]
        child_names = join_words(domain, ctx.child_names(state.child or []))
        if not names:
            dispatcher.utter_message(response="utter_nothing_eligible", child_names=child_names)
            return None
        variables = {
            "child_names": child_names,
            "programs_list": choice_text(names),
            "example_program": names[0].lower(),
        }
        return "utter_ask_reg_program", variables, buttons([(n, n) for n in names])


class AskGroup(AskAction):
    slot = "reg_group"

    async def question(self, dispatcher, tracker, domain) -> Question:  # type: ignore[no-untyped-def]
        ctx, state = await _ctx_state(tracker)
        groups = group_choices(ctx, state)
        program = ctx.program(state.program)
        if groups and all(g.get("level") for g in groups):
            labels = [str(g["level"]) for g in groups]
            response = "utter_ask_reg_group_level"
        elif len({g["site_id"] for g in groups}) > 1:
            labels = sorted({g["site"] for g in groups})
            response = "utter_ask_reg_group_site"
        else:
            labels = [group_name(domain, g) for g in groups]
            response = "utter_ask_reg_group"
        variables = {
            "choices": choice_text(labels),
            "choices_list": join_words(domain, labels),
            "program": program["name"],
            "child_names": join_words(domain, ctx.child_names(state.child or [])),
            "example_group": labels[0] if labels else "",
        }
        return response, variables, buttons([(t, t) for t in labels])


def week_label(domain: DomainDict, week: parsing.Week) -> str:
    dates = date_range(domain, week.starts_on, week.ends_on)
    return fragment(domain, "utter_fragment_week", number=week.number, dates=dates)


class AskWeeks(AskAction):
    slot = "reg_weeks"

    async def question(self, dispatcher, tracker, domain) -> Question:  # type: ignore[no-untyped-def]
        ctx, state = await _ctx_state(tracker)
        group_id = next(iter((state.group or {}).values()), None)
        weeks = ctx.weeks_of_group(group_id) if group_id else ctx.weeks_of_program(state.program)
        all_summer = fragment(domain, "utter_fragment_all_summer")
        variables = {
            "count": len(weeks),
            "first_dates": date_range(domain, weeks[0].starts_on, weeks[0].ends_on),
            "last_dates": date_range(domain, weeks[-1].starts_on, weeks[-1].ends_on),
            "weeks_list": "; ".join(week_label(domain, w) for w in weeks),
        }
        return "utter_ask_reg_weeks", variables, buttons([(all_summer, all_summer)])


class AskOptions(AskAction):
    """One option at a time (garde?, then vélo?), so that "oui" answers one question."""

    slot = "reg_options"

    async def question(self, dispatcher, tracker, domain) -> Question:  # type: ignore[no-untyped-def]
        ctx, state = await _ctx_state(tracker)
        code = state.scratch.get("option_asked") or "garde"
        variables = {
            "option": fragment(domain, f"utter_fragment_option_{code}").lower(),
            "price": money(ctx.option_price(code) or 0),
        }
        return OPTION_QUESTIONS[code], variables, yes_no_buttons(domain)


class AskTshirt(AskAction):
    slot = "reg_tshirt"

    async def question(self, dispatcher, tracker, domain) -> Question:  # type: ignore[no-untyped-def]
        ctx, state = await _ctx_state(tracker)
        child_id = next_tshirt_child(ctx, state)
        if child_id is None:
            return None
        child = ctx.child(child_id)
        sizes = buttons([(s, s) for s in parsing.SIZES])
        return "utter_ask_reg_tshirt", {"child": child["first_name"]}, sizes


class AskWaitlist(AskAction):
    slot = "reg_waitlist"

    async def question(self, dispatcher, tracker, domain) -> Question:  # type: ignore[no-untyped-def]
        ctx, state = await _ctx_state(tracker)
        labels = [
            fragment(domain, "utter_fragment_full_week", number=n) for n in full_weeks(ctx, state)
        ]
        variables = {
            "full_weeks": join_words(domain, labels),
            "child_names": join_words(domain, ctx.child_names(state.child or [])),
        }
        return "utter_ask_reg_waitlist", variables, yes_no_buttons(domain)
