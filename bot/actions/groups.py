"""Which groups a draft's children may join: the one group filter, and the facts it implies.

A child's groups are the program's groups open to their age (the backend's
`age_at_reference`), narrowed by the site and the level said, the level possibly given per
child ("Léa niveau 5 et Thomas niveau 2").
"""

from __future__ import annotations

from typing import Any

from rasa_sdk.types import DomainDict

from .context import Context
from .draft import Message, State
from .formatting import calendar_date, fragment


def level_for(state: State, child_id: int) -> int | None:
    levels = state.scratch.get("levels") or {}
    return levels.get(str(child_id), state.scratch.get("level"))


def groups_for(
    ctx: Context, state: State, child_id: int, loose: bool = False
) -> list[dict[str, Any]]:
    """The group filter. loose: a site or level that leaves nothing is ignored rather than
    leaving no choice (used to list what to choose from)."""
    if state.program is None:
        return []
    groups = ctx.eligible_groups(state.program, child_id)
    for key, value in (
        ("site_id", state.scratch.get("site_id")),
        ("level", level_for(state, child_id)),
    ):
        if value is None:
            continue
        narrowed = [g for g in groups if g.get(key) == value]
        groups = (narrowed or groups) if loose else narrowed
    return groups


def matching_groups(ctx: Context, state: State) -> list[dict[str, Any]] | None:
    """Groups open to every chosen child at the site/level said; None when that cannot be told."""
    if state.program is None or not state.child:
        return None
    found: list[dict[str, Any]] = []
    for child_id in state.child:
        groups = groups_for(ctx, state, child_id)
        if not groups:
            return []
        found += groups
    return found


def group_choices(ctx: Context, state: State) -> list[dict[str, Any]]:
    """What the group question lists: the first child's groups, narrowed by what was said."""
    if state.program is None or not state.child:
        return []
    return groups_for(ctx, state, state.child[0], loose=True)


def group_name(domain: DomainDict, group: dict[str, Any]) -> str:
    """ "Parc des Érables, 7-8 ans", or the label alone when the group has no site (swimming)."""
    if group.get("site"):
        return fragment(domain, "utter_fragment_group", site=group["site"], label=group["label"])
    return str(group["label"])


def group_labels(ctx: Context, state: State, domain: DomainDict) -> list[str]:
    """Every group open to the first child, as the parent reads them."""
    if state.program is None or not state.child:
        return []
    return [group_name(domain, g) for g in ctx.eligible_groups(state.program, state.child[0])]


def pick_groups(ctx: Context, state: State) -> dict[str, int] | None:
    """One group per child when what was said (or the catalog) leaves a single choice."""
    if state.program is None or not state.child:
        return None
    chosen: dict[str, int] = {}
    for child_id in state.child:
        groups = groups_for(ctx, state, child_id)
        if len(groups) != 1:
            return None
        chosen[str(child_id)] = groups[0]["id"]
    return chosen


def not_eligible(ctx: Context, child_id: int, program_id: int) -> Message:
    low, high = ctx.program_age_span(program_id)
    return (
        "utter_not_eligible",
        {
            "child": ctx.child(child_id)["first_name"],
            "age": ctx.age(child_id),
            "reference_date": calendar_date(ctx.reference_date()) if ctx.reference_date() else "",
            "program": ctx.program(program_id)["name"],
            "min_age": low,
            "max_age": high,
        },
    )


def check_eligible(
    ctx: Context, child_ids: list[int], program_id: int, messages: list[Message]
) -> bool:
    """True when every child has a group in the program; otherwise says why for each."""
    refused = [c for c in child_ids if not ctx.eligible_groups(program_id, c)]
    messages.extend(not_eligible(ctx, c, program_id) for c in refused)
    return not refused


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


def option_codes(ctx: Context, state: State) -> list[str]:
    """The options the chosen groups offer, in the order they are asked."""
    if not state.group:
        return []
    codes = set().union(*(ctx.option_codes(g) for g in state.group.values()))
    return sorted(codes)
