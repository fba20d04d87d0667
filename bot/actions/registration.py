"""Registration: gather child, activity, group, weeks, options, T-shirt and waitlist consent.

One validator (validate_registration_form) reads every fact a message gives, whatever was
asked ("Léa, camp au parc de la Rivière, semaines 2 à 4 avec service de garde"), resolves it
against the family file and the live catalog, and leaves unfilled only what is still
missing; the form then asks for that, one question at a time (action_ask_reg_*).

Slot values: reg_child [child ids]; reg_program program id; reg_group {child id: group id};
reg_weeks [week numbers]; reg_options {code: [weeks] | None for every week}; reg_tshirt
{child id: size} or "-"; reg_waitlist "yes" | "no" | "-"; reg_scratch keeps the site and level
chosen before a group could be picked.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from . import facts, parsing
from .backend_client import BackendError, backend
from .common import (
    AskAction,
    activating,
    buttons,
    is_interruption,
    latest_text,
    new_user_turn,
    repair_events,
    yes_no_buttons,
)
from .context import Context, load
from .formatting import (
    calendar_date,
    date_range,
    fragment,
    join_words,
    local_datetime,
    money,
)
from .session import family_token

log = logging.getLogger(__name__)

SLOTS = (
    "reg_child",
    "reg_program",
    "reg_group",
    "reg_weeks",
    "reg_options",
    "reg_tshirt",
    "reg_waitlist",
    "reg_scratch",
)


@dataclass
class State:
    child: list[int] | None = None
    program: int | None = None
    group: dict[str, int] | None = None
    weeks: list[int] | None = None
    options: dict[str, list[int] | None] | None = None
    tshirt: Any = None
    waitlist: str | None = None
    scratch: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_tracker(cls, tracker: Tracker) -> State:
        values = [copy.deepcopy(tracker.get_slot(s)) for s in SLOTS]
        state = cls(*values[:7], scratch=values[7] or {})
        return state

    def as_slots(self) -> dict[str, Any]:
        return dict(
            zip(
                SLOTS,
                (
                    self.child,
                    self.program,
                    self.group,
                    self.weeks,
                    self.options,
                    self.tshirt,
                    self.waitlist,
                    self.scratch,
                ),
                strict=True,
            )
        )


Message = tuple[str, dict[str, Any]]


# --------------------------------------------------------------------------- resolution


def resolve(
    ctx: Context,
    state: State,
    text: str,
    requested: str | None,
    domain: DomainDict,
    messages: list[Message],
) -> None:
    """Apply what one message says to the state (pure except for reading ctx)."""
    if not text:
        return
    # child: names, "ma plus vieille", "les deux"; a bare number only when we asked
    kids = parsing.parse_children(text, ctx.children, allow_number=requested == "reg_child")
    if not kids and requested == "reg_child":
        name = parsing.unknown_name(text)
        if name and parsing.best_match(text, ctx.program_names()) is None:
            messages.append(
                (
                    "utter_child_unknown",
                    {
                        "name": name,
                        "children_list": join_words(domain, [c.first_name for c in ctx.children]),
                    },
                )
            )
    child_changed = bool(kids and kids != state.child)
    if child_changed:
        requested = None  # "non, plutôt Thomas": the "non" answers no other question
        state.child = kids
        state.group = None
        state.tshirt = None
        state.waitlist = None
        state.scratch.pop("tshirt", None)

    # program (activity): matched against the live catalog's names and category words
    program_id = parsing.best_match(text, ctx.program_names())
    if program_id is None and requested == "reg_program":
        eligible = ctx.eligible_programs(state.child or [])
        number = parsing.parse_small_number(text, maximum=len(eligible))
        if number:
            program_id = eligible[number - 1]["id"]
    if program_id is not None and program_id != state.program:
        if state.child and not check_eligible(ctx, state.child, program_id, domain, messages):
            program_id = None
        if program_id is not None:
            state.program = program_id
            state.group = None
            state.waitlist = None

    # site and level
    site_id = parsing.best_match(text, ctx.site_names(state.program))
    if site_id is not None:
        if site_id != state.scratch.get("site_id"):
            state.group = None
            state.waitlist = None
        state.scratch["site_id"] = site_id
    level = parsing.parse_level(text)
    if level is None and requested == "reg_group" and state.program is not None:
        choices = group_choices(ctx, state)
        if choices and all(g.get("level") for g in choices):
            level = parsing.parse_small_number(text, maximum=20)
        elif choices:
            number = parsing.parse_small_number(text, maximum=len(choices))
            if number:
                state.scratch["site_id"] = choices[number - 1]["site_id"]
    if level is not None:
        if level != state.scratch.get("level"):
            state.group = None
            state.waitlist = None
        state.scratch["level"] = level
    if (site_id is not None or level is not None) and not matching_groups(ctx, state):
        # "niveau 12", or a park without the child's age group: say what exists instead
        labels = group_labels(ctx, state, domain)
        if labels:
            messages.append(
                (
                    "utter_group_not_found",
                    {
                        "program": ctx.program(state.program)["name"],
                        "choices_list": join_words(domain, labels),
                        "child_names": join_words(domain, ctx.child_names(state.child or [])),
                    },
                )
            )
        state.scratch.pop("site_id", None)
        state.scratch.pop("level", None)
        state.group = None

    # weeks
    weeks_pool = ctx.weeks_of_program(state.program)
    weeks = parsing.parse_weeks(text, weeks_pool, expect_weeks=requested == "reg_weeks")
    if weeks and weeks != state.weeks:
        state.weeks = weeks
        state.waitlist = None

    # options, per week or for every week
    choice = parsing.parse_options(text, weeks_pool, asked=requested == "reg_options")
    if not choice.empty:
        options = dict(state.options or {})
        for code, wanted in choice.wanted.items():
            if wanted:
                options[code] = choice.weeks.get(code)
            else:
                options.pop(code, None)
        if requested == "reg_options":
            for code in ("garde", "velo"):
                if code not in choice.wanted:
                    options.pop(code, None)
        state.options = options
    elif requested == "reg_options" and parsing.parse_yes_no(text) is False:
        state.options = {}

    # T-shirt: a size said outright, or yes/no to the size on file
    size = (
        parsing.parse_tshirt(text)
        if (
            requested == "reg_tshirt"
            or "taille" in parsing.normalize(text)
            or "chandail" in parsing.normalize(text)
        )
        else None
    )
    pending = next_tshirt_child(ctx, state)
    if pending is not None and requested == "reg_tshirt":
        on_file = ctx.child(pending).get("tshirt_size")
        answer = parsing.parse_yes_no(text)
        sizes = dict(state.scratch.get("tshirt") or {})
        if size:
            sizes[str(pending)] = size
        elif answer is True and on_file and str(pending) not in state.scratch.get("declined", []):
            sizes[str(pending)] = on_file
        elif answer is False and on_file and str(pending) not in state.scratch.get("declined", []):
            state.scratch["declined"] = [*state.scratch.get("declined", []), str(pending)]
        if sizes != (state.scratch.get("tshirt") or {}):
            state.scratch["tshirt"] = sizes
    elif size and state.child and len(state.child) == 1:
        state.scratch["tshirt"] = {str(state.child[0]): size}

    # waitlist consent
    if requested == "reg_waitlist":
        answer = parsing.parse_yes_no(text)
        if answer is not None:
            state.waitlist = "yes" if answer else "no"


def check_eligible(
    ctx: Context, child_ids: list[int], program_id: int, domain: DomainDict, messages: list[Message]
) -> bool:
    ok = True
    for child_id in child_ids:
        if not ctx.eligible_groups(program_id, child_id):
            low, high = ctx.program_age_span(program_id)
            messages.append(
                (
                    "utter_not_eligible",
                    {
                        "child": ctx.child(child_id)["first_name"],
                        "age": ctx.age(child_id),
                        "reference_date": calendar_date(ctx.reference_date())
                        if ctx.reference_date()
                        else "",
                        "program": ctx.program(program_id)["name"],
                        "min_age": low,
                        "max_age": high,
                    },
                )
            )
            ok = False
    return ok


def matching_groups(ctx: Context, state: State) -> list[dict[str, Any]] | None:
    """Groups open to every chosen child at the site/level said.

    None when that cannot be told yet.
    """
    if state.program is None or not state.child:
        return None
    found: list[dict[str, Any]] = []
    for child_id in state.child:
        groups = ctx.eligible_groups(state.program, child_id)
        if state.scratch.get("site_id") is not None:
            groups = [g for g in groups if g["site_id"] == state.scratch["site_id"]]
        if state.scratch.get("level") is not None:
            groups = [g for g in groups if g.get("level") == state.scratch["level"]]
        if not groups:
            return []
        found += groups
    return found


def group_labels(ctx: Context, state: State, domain: DomainDict) -> list[str]:
    """How the groups open to the first child are named to the parent.

    For example "Parc des Érables, 7-8 ans".
    """
    if state.program is None or not state.child:
        return []
    groups = ctx.eligible_groups(state.program, state.child[0])
    return [
        fragment(domain, "utter_fragment_group", site=g["site"], label=g["label"])
        if g.get("site")
        else g["label"]
        for g in groups
    ]


def group_choices(ctx: Context, state: State) -> list[dict[str, Any]]:
    """Groups of the program open to the first child, filtered by the site/level already said."""
    if state.program is None or not state.child:
        return []
    groups = ctx.eligible_groups(state.program, state.child[0])
    if state.scratch.get("site_id") is not None:
        groups = [g for g in groups if g["site_id"] == state.scratch["site_id"]] or groups
    if state.scratch.get("level") is not None:
        groups = [g for g in groups if g.get("level") == state.scratch["level"]] or groups
    return groups


def pick_groups(ctx: Context, state: State) -> dict[str, int] | None:
    """One group per child when the site/level said (or the catalog) leaves a single choice."""
    if state.program is None or not state.child:
        return None
    chosen: dict[str, int] = {}
    for child_id in state.child:
        groups = ctx.eligible_groups(state.program, child_id)
        if state.scratch.get("site_id") is not None:
            groups = [g for g in groups if g["site_id"] == state.scratch["site_id"]]
        if state.scratch.get("level") is not None:
            groups = [g for g in groups if g.get("level") == state.scratch["level"]]
        if len(groups) != 1:
            return None
        chosen[str(child_id)] = groups[0]["id"]
    return chosen


def needs_tshirt(ctx: Context, state: State) -> bool:
    return bool(state.program is not None and ctx.program(state.program).get("needs_tshirt"))


def next_tshirt_child(ctx: Context, state: State) -> int | None:
    if not state.child or not needs_tshirt(ctx, state):
        return None
    sizes = state.scratch.get("tshirt") or {}
    return next((c for c in state.child if str(c) not in sizes), None)


def full_weeks(ctx: Context, state: State) -> list[int]:
    if not state.group or not state.weeks:
        return []
    full = set()
    for group_id in state.group.values():
        for number in state.weeks:
            session = ctx.session(group_id, number)
            if session is not None and int(session.get("available", 1)) <= 0:
                full.add(number)
    return sorted(full)


def complete(ctx: Context, state: State) -> None:
    """Fill what follows from the facts: one child, one group, one session, no options, sizes."""
    if state.child is None and len(ctx.children) == 1:
        state.child = [ctx.children[0].id]
    if state.child and state.program is None:
        eligible = ctx.eligible_programs(state.child)
        if len(eligible) == 1:
            state.program = eligible[0]["id"]
    if state.group is None:
        state.group = pick_groups(ctx, state)
    if state.group:
        first_group = next(iter(state.group.values()))
        valid = [w.number for w in ctx.weeks_of_group(first_group)]
        if len(valid) == 1:
            state.weeks = valid
        elif state.weeks is not None:
            kept = [w for w in state.weeks if w in valid]
            state.weeks = kept or None
        codes = set().union(*(ctx.option_codes(g) for g in state.group.values()))
        if not codes:
            state.options = {}
        elif state.options:
            state.options = {c: w for c, w in state.options.items() if c in codes}
    if needs_tshirt(ctx, state) is False and state.program is not None:
        state.tshirt = "-"
    elif state.child and needs_tshirt(ctx, state):
        if next_tshirt_child(ctx, state) is None:
            state.tshirt = dict(state.scratch.get("tshirt") or {})
        else:
            state.tshirt = None
    if state.group and state.weeks and state.waitlist is None and not full_weeks(ctx, state):
        state.waitlist = "-"


class ValidateRegistrationForm(FormValidationAction):
    def name(self) -> str:
        return "validate_registration_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        starting = activating(tracker, "registration_form")
        if not starting and not new_user_turn(tracker):
            return []
        token = family_token(tracker)
        if not token:
            return []
        try:
            ctx = await load(token)
        except BackendError as err:
            log.warning("family/catalog unavailable: %s", err.code)
            dispatcher.utter_message(response="utter_backend_error")
            return [SlotSet("ask_done", True)] if not starting else [SlotSet("pending_facts", None)]
        state = State.from_tracker(tracker)
        before = copy.deepcopy(state.as_slots())
        requested = None if starting else tracker.get_slot("requested_slot")
        text = (
            facts.as_text(tracker.get_slot("pending_facts"), ctx)
            if starting
            else latest_text(tracker)
        )
        messages: list[Message] = []
        resolve(ctx, state, text, requested, domain, messages)
        if is_interruption(tracker):  # "pourquoi ?" names no child: a rule answers it
            messages = [m for m in messages if m[0] != "utter_child_unknown"]
        complete(ctx, state)
        for response, variables in messages:
            dispatcher.utter_message(response=response, **variables)

        after = state.as_slots()
        events: list[EventType] = [SlotSet(k, v) for k, v in after.items() if v != before.get(k)]
        if starting:
            return events + [SlotSet("pending_facts", None), SlotSet("repair_level", 0.0)]
        if events:
            return events + [SlotSet("repair_level", 0.0)]
        if is_interruption(tracker):
            return []
        if messages:  # an explanation was given (not eligible): ask again plainly
            return [SlotSet("repair_level", 0.0)]
        return repair_events(tracker)


# --------------------------------------------------------------------------- questions


async def _ctx_state(tracker: Tracker) -> tuple[Context, State]:
    return await load(family_token(tracker)), State.from_tracker(tracker)


class AskChild(AskAction):
    slot = "reg_child"

    async def question(self, dispatcher, tracker, domain):  # type: ignore[no-untyped-def]
        ctx, _ = await _ctx_state(tracker)
        names = [c.first_name for c in ctx.children]
        choice = (
            fragment(domain, "utter_fragment_or", first=", ".join(names[:-1]), last=names[-1])
            if len(names) > 1
            else names[0] + " ?"
        )
        options = [(n, n) for n in names]
        if len(names) > 1:
            both = fragment(domain, "utter_fragment_both")
            options.append((both, both))
        return (
            "utter_ask_reg_child",
            {
                "children_choice": choice,
                "example_child": names[0],
                "children_list": join_words(domain, names),
            },
            buttons(options),
        )


class AskProgram(AskAction):
    slot = "reg_program"

    async def question(self, dispatcher, tracker, domain):  # type: ignore[no-untyped-def]
        ctx, state = await _ctx_state(tracker)
        eligible = ctx.eligible_programs(state.child or [])
        names = [p["name"] for p in eligible]
        if not names:
            dispatcher.utter_message(
                response="utter_nothing_eligible",
                child_names=join_words(domain, ctx.child_names(state.child or [])),
            )
            return None
        return (
            "utter_ask_reg_program",
            {
                "child_names": join_words(domain, ctx.child_names(state.child or [])),
                "programs_list": fragment(
                    domain, "utter_fragment_or", first=", ".join(names[:-1]), last=names[-1]
                )
                if len(names) > 1
                else names[0] + " ?",
                "example_program": names[0].lower(),
            },
            buttons([(n, n) for n in names]),
        )


class AskGroup(AskAction):
    slot = "reg_group"

    async def question(self, dispatcher, tracker, domain):  # type: ignore[no-untyped-def]
        ctx, state = await _ctx_state(tracker)
        groups = group_choices(ctx, state)
        program = ctx.program(state.program)
        if groups and all(g.get("level") for g in groups):
            labels = [str(g["level"]) for g in groups]
            response = "utter_ask_reg_group_level"
            choice_titles = labels
        elif len({g["site_id"] for g in groups}) > 1:
            labels = sorted({g["site"] for g in groups})
            response = "utter_ask_reg_group_site"
            choice_titles = labels
        else:
            labels = [
                fragment(domain, "utter_fragment_group", site=g["site"], label=g["label"])
                for g in groups
            ]
            response = "utter_ask_reg_group"
            choice_titles = labels
        listed = (
            fragment(domain, "utter_fragment_or", first=", ".join(labels[:-1]), last=labels[-1])
            if len(labels) > 1
            else (labels[0] + " ?" if labels else "")
        )
        return (
            response,
            {
                "choices": listed,
                "choices_list": join_words(domain, labels),
                "program": program["name"],
                "child_names": join_words(domain, ctx.child_names(state.child or [])),
                "example_group": labels[0] if labels else "",
            },
            buttons([(t, t) for t in choice_titles]),
        )


def week_label(domain: DomainDict, week: parsing.Week) -> str:
    dates = date_range(domain, week.starts_on, week.ends_on)
    return fragment(domain, "utter_fragment_week", number=week.number, dates=dates)


class AskWeeks(AskAction):
    slot = "reg_weeks"

    async def question(self, dispatcher, tracker, domain):  # type: ignore[no-untyped-def]
        ctx, state = await _ctx_state(tracker)
        group_id = next(iter((state.group or {}).values()), None)
        weeks = ctx.weeks_of_group(group_id) if group_id else ctx.weeks_of_program(state.program)

        all_summer = fragment(domain, "utter_fragment_all_summer")
        return (
            "utter_ask_reg_weeks",
            {
                "count": len(weeks),
                "first_dates": date_range(domain, weeks[0].starts_on, weeks[0].ends_on),
                "last_dates": date_range(domain, weeks[-1].starts_on, weeks[-1].ends_on),
                "weeks_list": "; ".join(week_label(domain, w) for w in weeks),
            },
            buttons([(all_summer, all_summer)]),
        )


class AskOptions(AskAction):
    slot = "reg_options"

    async def question(self, dispatcher, tracker, domain):  # type: ignore[no-untyped-def]
        ctx, _ = await _ctx_state(tracker)
        titles = [
            fragment(domain, f"utter_fragment_option_{k}") for k in ("garde", "velo", "all", "none")
        ]
        return (
            "utter_ask_reg_options",
            {
                "garde_price": money(ctx.option_price("garde") or 0),
                "velo_price": money(ctx.option_price("velo") or 0),
            },
            buttons([(t, t) for t in titles]),
        )


class AskTshirt(AskAction):
    slot = "reg_tshirt"

    async def question(self, dispatcher, tracker, domain):  # type: ignore[no-untyped-def]
        ctx, state = await _ctx_state(tracker)
        child_id = next_tshirt_child(ctx, state)
        if child_id is None:
            return None
        child = ctx.child(child_id)
        sizes = buttons([(s, s) for s in parsing.SIZES])
        declined = str(child_id) in (state.scratch.get("declined") or [])
        if (
            child.get("tshirt_size")
            and not declined
            and int(tracker.get_slot("repair_level") or 0) == 0
        ):
            return (
                "utter_ask_reg_tshirt_on_file",
                {"child": child["first_name"], "size": child["tshirt_size"]},
                yes_no_buttons(domain),
            )
        return "utter_ask_reg_tshirt", {"child": child["first_name"]}, sizes


class AskWaitlist(AskAction):
    slot = "reg_waitlist"

    async def question(self, dispatcher, tracker, domain):  # type: ignore[no-untyped-def]
        ctx, state = await _ctx_state(tracker)
        full = full_weeks(ctx, state)
        labels = [fragment(domain, "utter_fragment_full_week", number=n) for n in full]
        return (
            "utter_ask_reg_waitlist",
            {
                "full_weeks": join_words(domain, labels),
                "child_names": join_words(domain, ctx.child_names(state.child or [])),
            },
            yes_no_buttons(domain),
        )


# --------------------------------------------------------------------------- entry points


class ActionPrepareRegistration(Action):
    """Keeps the facts of a registration message and says whether the parent is identified."""

    def name(self) -> str:
        return "action_prepare_registration"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        from .identification import identify_from_metadata

        if not str((tracker.latest_message or {}).get("text") or "").strip():
            # A blank message (a stray tap on "Envoyer") asks for nothing: say so and wait,
            # rather than starting an identification nobody asked for.
            dispatcher.utter_message(response="utter_empty_message")
            return [FollowupAction("action_listen")]
        events: list[EventType] = [SlotSet("awaiting", None), SlotSet("repair_level", 0.0)]
        text = latest_text(tracker)
        kept = await facts.kept_facts(tracker.get_slot("pending_facts"), text)
        events.append(SlotSet("pending_facts", kept))
        identified = bool(tracker.get_slot("identified"))
        if not identified and not tracker.get_slot("signed_out"):
            found, response = await identify_from_metadata(
                (tracker.latest_message or {}).get("metadata"),
                tracker.sender_id,
                tracker.get_latest_input_channel() or "",
            )
            if found:
                events.extend(found)
                identified = True
            elif response:
                dispatcher.utter_message(response=response)
        events.append(SlotSet("identified", identified))
        return events


class ActionAfterIdentification(Action):
    """A pending or locked account, or a window not open yet, cannot register: say so kindly."""

    def name(self) -> str:
        return "action_after_identification"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        token = family_token(tracker)
        if not tracker.get_slot("identified") or not token:
            if tracker.get_slot("id_code") != "locked":
                dispatcher.utter_message(response="utter_not_identified")
            return [SlotSet("can_register", False)] + reset_identification()
        try:
            family = await backend.family(token)
            season = await backend.season(token)
        except BackendError as err:
            log.warning("family/season unavailable: %s", err.code)
            dispatcher.utter_message(response="utter_backend_error")
            return [SlotSet("can_register", False)]
        status = family.get("status")
        if status == "pending":
            dispatcher.utter_message(response="utter_account_pending")
            return [SlotSet("can_register", False)]
        if status == "locked":
            dispatcher.utter_message(response="utter_account_locked")
            return [SlotSet("can_register", False)]
        if season.get("open_for_family") is False:
            opens = season.get("opens_for_family_at") or ""
            dispatcher.utter_message(
                response="utter_not_open", opens_at=local_datetime(opens) if opens else ""
            )
            return [SlotSet("can_register", False)]
        return [SlotSet("can_register", True)]


def reset_identification() -> list[EventType]:
    return [
        SlotSet("id_client_number", None),
        SlotSet("id_phone", None),
        SlotSet("id_code", None),
        SlotSet("challenge_id", None),
    ]


def clear_registration() -> list[EventType]:
    return [SlotSet(s, None) for s in SLOTS] + [
        SlotSet("pending_facts", None),
        SlotSet("repair_level", 0.0),
    ]
