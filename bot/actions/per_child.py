"""Weeks and options said for each child in one message ("Léa semaines 2 et 3 avec garde pis
Thomas semaine 4 sans rien"), kept in the draft's scratch as `per_child`
({child id: {"weeks": [...], "options": {code: weeks | None}}}). The draft's own weeks and
options stay what every other child gets; a child's entry overrides them when the lines are
added."""

from __future__ import annotations

from typing import Any

from .context import Context
from .draft import State
from .reading.per_child import per_child


def resolve_per_child(ctx: Context, state: State, text: str) -> None:
    """Read what each child's own words say; once every child has their own weeks (or
    options), that step is settled for the draft too."""
    kids = state.child or []
    if len(kids) < 2:
        return
    names = [(c.id, c.first_name) for c in ctx.children if c.id in kids]
    found = per_child(text, names, ctx.weeks_of_program(state.program))
    if not found:
        return
    entries: dict[str, dict[str, Any]] = dict(state.scratch.get("per_child") or {})
    for child_id, said in found.items():
        entries[str(child_id)] = {**entries.get(str(child_id), {}), **said}
    state.scratch["per_child"] = entries
    everyone = [entries.get(str(k), {}) for k in kids]
    if all("weeks" in e for e in everyone):
        state.weeks = sorted({int(n) for e in everyone for n in e["weeks"]})
        state.waitlist = None
    if all("options" in e for e in everyone):
        state.options = {}


def forget(state: State, what: str) -> None:
    """The parent now says the weeks (or options) for every child at once."""
    entries = state.scratch.get("per_child")
    if not entries:
        return
    for entry in entries.values():
        entry.pop(what, None)
    state.scratch["per_child"] = {k: e for k, e in entries.items() if e}


def child_weeks(state: State, child_id: int, valid: list[int]) -> list[int]:
    own = (state.scratch.get("per_child") or {}).get(str(child_id), {}).get("weeks")
    weeks = own if own is not None else state.weeks or []
    return [int(n) for n in weeks if not valid or int(n) in valid]


def child_options(state: State, child_id: int) -> dict[str, list[int] | None]:
    own = (state.scratch.get("per_child") or {}).get(str(child_id), {}).get("options")
    return dict(own) if own is not None else dict(state.options or {})
