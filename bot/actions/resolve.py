"""What one message says to the registration draft: one function per fact.

Every fact of a message is read, whatever was asked ("Léa, camp au parc de la Rivière,
semaines 2 à 4 avec service de garde"); `requested` (the step's question) only decides how
a short answer is read ("oui", "2", "les deux"). A change keeps what still applies: another
child keeps the activity, level, weeks and options when they fit that child.
"""

from __future__ import annotations

import re

from rasa_sdk.types import DomainDict

from . import parsing, readings
from .context import Context
from .draft import Message, State
from .formatting import calendar_date, join_words
from .groups import (
    check_eligible,
    full_weeks,
    group_choices,
    group_labels,
    matching_groups,
    needs_tshirt,
    next_tshirt_child,
    option_codes,
    pick_groups,
)
from .per_child import forget, resolve_per_child


def resolve(
    ctx: Context,
    state: State,
    text: str,
    requested: str | None,
    domain: DomainDict,
    messages: list[Message],
) -> None:
    """Apply what one message says to the draft (pure except for reading ctx)."""
    if not text:
        return
    requested = resolve_child(ctx, state, text, requested, domain, messages)
    resolve_program(ctx, state, text, requested, messages)
    resolve_site_and_level(ctx, state, text, requested, domain, messages)
    resolve_age_group(ctx, state, text, messages)
    resolve_weeks(ctx, state, text, requested)
    resolve_options(ctx, state, text, requested)
    resolve_per_child(ctx, state, text)
    resolve_tshirt(ctx, state, text, requested)
    resolve_waitlist(state, text, requested, messages)


def resolve_child(
    ctx: Context,
    state: State,
    text: str,
    requested: str | None,
    domain: DomainDict,
    messages: list[Message],
) -> str | None:
    """Names, "ma plus vieille", "les deux" (at the child question, not at an options one)."""
    said = parsing.BOTH.sub(" ", parsing.normalize(text)) if requested == "reg_options" else text
    kids = parsing.parse_children(said, ctx.children, allow_number=requested == "reg_child")
    if not kids and requested == "reg_child":
        name = parsing.unknown_name(text)
        if name and parsing.best_match(text, ctx.program_names()) is None:
            names = [c.first_name for c in ctx.children]
            messages.append(
                ("utter_child_unknown", {"name": name, "children_list": join_words(domain, names)})
            )
    if not kids or kids == state.child:
        if kids:
            read_levels_per_child(ctx, state, text, kids)
        return requested
    state.child = kids
    state.scratch.pop("per_child", None)
    read_levels_per_child(ctx, state, text, kids)
    # what depends on the child is worked out again; activity, level, weeks and options stay
    state.group = None
    state.tshirt = None
    state.waitlist = None
    sizes = {k: v for k, v in (state.scratch.get("tshirt") or {}).items() if int(k) in kids}
    said = state.scratch.pop("tshirt_said", None)
    if said and len(kids) == 1:
        sizes[str(kids[0])] = said  # "mettez-lui un M" said before the child was known
    state.scratch["tshirt"] = sizes
    if state.program is not None and not check_eligible(ctx, kids, state.program, messages):
        state.program = None
    return None  # "non, plutôt Thomas": the "non" answers no other question


def read_levels_per_child(ctx: Context, state: State, text: str, kids: list[int]) -> None:
    """ "Léa niveau 5 et Thomas niveau 2": the words after a name, up to the next name."""
    if len(kids) < 2:
        return
    norm = parsing.normalize(text)
    places = []
    for child in ctx.children:
        if child.id in kids:
            found = re.search(rf"\b{re.escape(parsing.normalize(child.first_name))}\b", norm)
            if found:
                places.append((found.start(), child.id))
    places.sort()
    levels: dict[str, int] = {}
    for i, (start, child_id) in enumerate(places):
        end = places[i + 1][0] if i + 1 < len(places) else len(norm)
        level = parsing.parse_level(norm[start:end])
        if level is not None:
            levels[str(child_id)] = level
    if len(levels) >= 2:
        state.scratch["levels"] = levels
        state.scratch.pop("level", None)
        state.group = None


def resolve_program(
    ctx: Context, state: State, text: str, requested: str | None, messages: list[Message]
) -> None:
    """The activity, matched against the live catalog's names and category words."""
    program_id = parsing.best_match(text, ctx.program_names())
    if program_id is None and requested == "reg_program" and not readings.is_question(text):
        eligible = ctx.eligible_programs(state.child or [])
        number = parsing.parse_small_number(text, maximum=len(eligible))
        if number:
            program_id = eligible[number - 1]["id"]
    if program_id is None or program_id == state.program:
        return
    if state.child and not check_eligible(ctx, state.child, program_id, messages):
        return
    state.program = program_id
    state.group = None
    state.waitlist = None


def resolve_site_and_level(
    ctx: Context,
    state: State,
    text: str,
    requested: str | None,
    domain: DomainDict,
    messages: list[Message],
) -> None:
    site_id = parsing.best_match(text, ctx.site_names(state.program))
    if site_id is not None:
        if site_id != state.scratch.get("site_id"):
            state.group = None
            state.waitlist = None
        state.scratch["site_id"] = site_id
    level = None if state.scratch.get("levels") else parsing.parse_level(text)
    if (
        level is None
        and requested == "reg_group"
        and state.program is not None
        and not readings.is_question(text)
    ):
        choices = group_choices(ctx, state)
        if choices and all(g.get("level") for g in choices):
            level = parsing.parse_small_number(text, maximum=20)
        elif choices:
            number = parsing.parse_small_number(text, maximum=len(choices))
            if number:
                state.scratch["site_id"] = choices[number - 1]["site_id"]
                state.group = None
    if level is not None:
        if level != state.scratch.get("level"):
            state.group = None
            state.waitlist = None
        state.scratch["level"] = level
    said = site_id is not None or level is not None or state.scratch.get("levels")
    if said and matching_groups(ctx, state) == []:
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
        for key in ("site_id", "level", "levels"):
            state.scratch.pop(key, None)
        state.group = None


def resolve_age_group(ctx: Context, state: State, text: str, messages: list[Message]) -> None:
    """An age group asked for ("le groupe 9-12 ans") that is not the child's: say which is."""
    if state.program is None or not state.child:
        return
    norm = parsing.normalize(text)
    asked = {
        g["label"]
        for g in ctx.program(state.program)["groups"]
        if not g.get("level")
        and re.search(rf"\b{re.escape(parsing.normalize(g['label']))}\b", norm)
    }
    if not asked:
        return
    for child_id in state.child:
        fits = {g["label"] for g in ctx.eligible_groups(state.program, child_id)}
        if fits and not asked & fits:
            messages.append(
                (
                    "utter_group_by_age",
                    {
                        "child": ctx.child(child_id)["first_name"],
                        "age": ctx.age(child_id),
                        "reference_date": calendar_date(ctx.reference_date())
                        if ctx.reference_date()
                        else "",
                        "group": sorted(fits)[0],
                    },
                )
            )


def resolve_weeks(ctx: Context, state: State, text: str, requested: str | None) -> None:
    pool = ctx.weeks_of_program(state.program)
    weeks = parsing.parse_weeks(text, pool, expect_weeks=requested == "reg_weeks")
    if weeks and weeks != state.weeks:
        state.weeks = weeks
        state.waitlist = None
        forget(state, "weeks")


def resolve_options(ctx: Context, state: State, text: str, requested: str | None) -> None:
    """Options named outright in a message settle them all; at the question, one option is
    asked at a time: "oui" / "non" answers that one, "les deux" takes both, "aucune" neither."""
    pool = ctx.weeks_of_program(state.program)
    asked = requested == "reg_options"
    offered = option_codes(ctx, state) or ["garde", "velo"]
    if asked and readings.says_both(text) and not readings.is_question(text):
        state.options = {code: None for code in offered}
        return
    choice = parsing.parse_options(text, pool)
    if not asked:
        if not choice.empty:
            forget(state, "options")
            options = dict(state.options or {})
            for code, wanted in choice.wanted.items():
                if wanted:
                    options[code] = choice.weeks.get(code)
                else:
                    options.pop(code, None)
            state.options = options
        return
    wanted = dict(choice.wanted)
    code = state.scratch.get("option_asked")
    if (
        not wanted
        and code is not None
        and parsing.refuses_every_option(text)
        and readings.answer(text) != readings.YES
    ):
        wanted = dict.fromkeys(offered, False)
    if not wanted and code is not None:
        said = readings.answer(text)
        if said in (readings.YES, readings.NO):
            wanted = {code: said == readings.YES}
    if not wanted:
        refused = parsing.parse_options(text, pool, asked=True).wanted
        if refused and not any(refused.values()):
            wanted = refused  # "aucune", "ni l'un ni l'autre"
    if not wanted:
        return
    options = dict(state.scratch.get("options") or {})
    for name, yes in wanted.items():
        if yes:
            options[name] = choice.weeks.get(name)
        else:
            options.pop(name, None)
    decided = {*state.scratch.get("options_decided", []), *wanted}
    state.scratch["options"] = options
    state.scratch["options_decided"] = sorted(decided)
    if set(offered) <= decided:
        state.options = {c: w for c, w in options.items() if c in offered}


def resolve_tshirt(ctx: Context, state: State, text: str, requested: str | None) -> None:
    """A size said outright ("mettez-lui un M"), for the child it is asked for or the only one."""
    size = readings.tshirt_size(text, asked=requested == "reg_tshirt")
    if not size:
        return
    pending = next_tshirt_child(ctx, state)
    sizes = dict(state.scratch.get("tshirt") or {})
    if pending is not None and requested == "reg_tshirt":
        sizes[str(pending)] = size
    elif state.child and len(state.child) == 1:
        sizes[str(state.child[0])] = size
    else:
        if not state.child:
            state.scratch["tshirt_said"] = size  # for the child named next
        return
    state.scratch["tshirt"] = sizes
    if state.tshirt is not None and state.tshirt != "-":
        state.tshirt = None  # worked out again from the sizes


def resolve_waitlist(
    state: State, text: str, requested: str | None, messages: list[Message]
) -> None:
    """Consent to the waitlist: a clear yes or no; a question is never a yes."""
    if requested != "reg_waitlist":
        return
    said = readings.answer(text)
    if said == readings.QUESTION:
        messages.append(("utter_question_not_consent", {}))
    elif said in (readings.YES, readings.NO):
        state.waitlist = "yes" if said == readings.YES else "no"


def complete(ctx: Context, state: State) -> None:
    """Fill what follows from the facts: one child, one group, one session, no options, sizes
    on file; leave empty only what is still to be asked."""
    if state.child is None and len(ctx.children) == 1:
        state.child = [ctx.children[0].id]
    if state.child and state.program is None:
        eligible = ctx.eligible_programs(state.child)
        if len(eligible) == 1:
            state.program = eligible[0]["id"]
    if state.group is None:
        state.group = pick_groups(ctx, state)
    if state.group:
        complete_weeks_and_options(ctx, state)
    if state.program is not None and not needs_tshirt(ctx, state):
        state.tshirt = "-"
    elif state.child and needs_tshirt(ctx, state):
        sizes = dict(state.scratch.get("tshirt") or {})
        said = state.scratch.pop("tshirt_said", None)
        if said and len(state.child) == 1:
            sizes.setdefault(str(state.child[0]), said)
        for child_id in state.child:
            on_file = ctx.child(child_id).get("tshirt_size")
            if str(child_id) not in sizes and on_file:
                sizes[str(child_id)] = on_file
        state.scratch["tshirt"] = sizes
        state.tshirt = dict(sizes) if next_tshirt_child(ctx, state) is None else None
    if state.group and state.weeks and state.waitlist is None and not full_weeks(ctx, state):
        state.waitlist = "-"
    if state.options is None and state.group:
        decided = state.scratch.get("options_decided", [])
        state.scratch["option_asked"] = next(
            (c for c in option_codes(ctx, state) if c not in decided), None
        )


def complete_weeks_and_options(ctx: Context, state: State) -> None:
    first_group = next(iter((state.group or {}).values()))
    valid = [w.number for w in ctx.weeks_of_group(first_group)]
    if len(valid) == 1:
        state.weeks = valid
    elif state.weeks is not None:
        state.weeks = [w for w in state.weeks if w in valid] or None
    codes = option_codes(ctx, state)
    if not codes:
        state.options = {}
    elif state.options is not None:
        state.options = {c: w for c, w in state.options.items() if c in codes}
    elif set(codes) <= set(state.scratch.get("options_decided", [])):
        chosen = state.scratch.get("options") or {}
        state.options = {c: w for c, w in chosen.items() if c in codes}
