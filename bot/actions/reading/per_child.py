"""One message, a different registration per child: "Léa semaines 2 et 3 avec garde pis
Thomas semaine 4 sans rien". Each child is given the words from their name up to the next
child's name; the weeks and options read there are that child's."""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from functools import cache
from typing import TypeVar

from . import lexicon
from .options import parse_options
from .text import normalize
from .week_edits import parse_weeks
from .weeks import Week

Key = TypeVar("Key", bound=Hashable)


def name_segments(text: str, names: Sequence[tuple[Key, str]]) -> list[tuple[Key, str]]:
    """(key, words from the name to the next name) for each name found, in reading order."""
    norm = normalize(text)
    places: list[tuple[int, Key]] = []
    for key, name in names:
        found = re.search(rf"\b{re.escape(normalize(name))}\b", norm)
        if found:
            places.append((found.start(), key))
    places.sort(key=lambda p: p[0])
    segments = []
    for i, (start, key) in enumerate(places):
        end = places[i + 1][0] if i + 1 < len(places) else len(norm)
        # "…, les deux avec le vélo": what follows is said of every child
        both = next((m for m in _both().finditer(norm, start, end) if m.start() > start), None)
        segments.append((key, norm[start : both.start() if both else end]))
    return segments


@cache
def _both() -> re.Pattern[str]:
    # "les 3 premières semaines" counts weeks, it does not name the children
    return re.compile(lexicon.pattern("children", "both").pattern + r"(?!\s*(?:premi|derni|sem))")


def segment_options(segment: str, weeks: Sequence[Week]) -> dict[str, list[int] | None] | None:
    """The options one child's words take ({code: weeks or None for every week}); {} when
    they turn every option down ("sans rien"); None when they say nothing about options."""
    choice = parse_options(segment, weeks)
    if choice.empty:
        return {} if lexicon.pattern("options", "nothing").search(segment) else None
    return {code: choice.weeks.get(code) for code, wanted in choice.wanted.items() if wanted}


def per_child(
    text: str, names: Sequence[tuple[Key, str]], weeks: Sequence[Week]
) -> dict[Key, dict[str, object]]:
    """What each named child's words say when every one of them says it and they do not all
    say the same: {key: {"weeks": [...], "options": {...}}}; {} when the message names fewer
    than two of them, or gives one set of weeks and options for all ("Léa et Thomas
    semaines 2 et 3")."""
    segments = name_segments(text, names)
    if len(segments) < 2 or len(segments) < len(names):
        return {}
    found: dict[Key, dict[str, object]] = {key: {} for key, _ in segments}
    said_weeks = {key: parse_weeks(seg, weeks) for key, seg in segments}
    if all(said_weeks.values()) and len({tuple(w or ()) for w in said_weeks.values()}) > 1:
        for key, numbers in said_weeks.items():
            found[key]["weeks"] = numbers
    said_options = {key: segment_options(seg, weeks) for key, seg in segments}
    distinct = {repr(sorted((o or {}).items())) for o in said_options.values()}
    if all(o is not None for o in said_options.values()) and len(distinct) > 1:
        for key, options in said_options.items():
            found[key]["options"] = options
    return {key: facts for key, facts in found.items() if facts}
