"""A message about weeks, read as an edit of the weeks a registration already has.

"non pas la 2, la 3" and "remplace la 4 par la 6" replace one week by another and keep the
others; "enlève la 3", "pas la 3", "sans la 3" remove; "ajoute la 7", "la 7 aussi" add;
"tout l'été sauf la 3", "semaines 2 à 4", "tout juillet" say the whole set. A part about options
("…, garde seulement semaines 1 et 2") is left to the options reader (WeekReading.rest).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from functools import cache

from . import lexicon
from .options import first_option
from .weeks import Week, WeekMention, prepare, read_mentions, weeks_named


class WeekEdit(Enum):
    SET = "set"
    ADD = "add"
    REMOVE = "remove"
    REPLACE = "replace"


@dataclass(frozen=True)
class WeekReading:
    kind: WeekEdit
    weeks_after: list[int]  # the weeks once the edit is applied, sorted
    added: list[int]
    removed: list[int]
    mentions: tuple[WeekMention, ...]  # how each part was read ("tout juillet" → month 7)
    rest: str = ""  # the part about options, for parse_options

    @property
    def stated(self) -> bool:
        """The weeks were worked out from a month, dates or "les 3 premières": say them."""
        return any(m.inferred for m in self.mentions)


# ---------------------------------------------------------------------------- patterns


_CLAUSE_START = re.compile(r",|;|\+|\b(?:avec|et|pis|mais|puis)\b")


def split_options(norm: str) -> tuple[str, str]:
    """The message cut before its first part about options: (weeks part, options part)."""
    found = first_option(norm)
    if not found:
        return norm, ""
    cut = found.start()
    starts = [m.start() for m in _CLAUSE_START.finditer(norm, 0, found.start())]
    if starts:
        cut = starts[-1]
    return norm[:cut], norm[cut:]


@cache
def _replace_patterns() -> tuple[re.Pattern[str], ...]:
    verbs = lexicon.alternation(lexicon.entry("weeks", "replace_verbs"))
    by = lexicon.alternation(lexicon.entry("weeks", "replace_by"))
    instead = lexicon.alternation(lexicon.entry("weeks", "instead_of"))
    then_words = [w for w in lexicon.entry("weeks", "correction_then") if w.strip(",;")]
    then = r"(?:[,;]|" + lexicon.alternation(then_words) + r")"
    return (
        re.compile(verbs + r"\s+(?P<old>.+?)\s+" + by + r"\s+(?P<new>.+)"),
        re.compile(r"(?P<new>.+?)\s+" + instead + r"\s*(?P<old>.+)"),
        re.compile(
            r"(?:\bnon\b\s*,?\s*)?\bpas\b\s+(?P<old>.+?)\s*(?:" + then + r"\s*)+(?P<new>.+)"
        ),
    )


def _replacement(
    text: str, weeks: Sequence[Week]
) -> tuple[list[WeekMention], list[WeekMention]] | None:
    for pattern in _replace_patterns():
        match = pattern.search(text)
        if not match:
            continue
        new_text = match.group("new")
        if re.match(r"\s*(?:ni|non plus)\b", new_text) or re.search(r"\bnon plus\b", new_text):
            continue
        old = read_mentions(match.group("old"), weeks, strict=False)
        new = read_mentions(new_text, weeks, strict=False)
        if weeks_named(old) and weeks_named(new):
            return old, new
    return None


@cache
def _exclusion(with_verbs: bool) -> re.Pattern[str]:
    words = [*lexicon.entry("weeks", "except")]
    if with_verbs:
        words += lexicon.entry("weeks", "remove")
    return re.compile(lexicon.alternation(words))


def _split_exclusion(text: str, weeks: Sequence[Week], with_verbs: bool) -> tuple[str, str]:
    for match in _exclusion(with_verbs).finditer(text):
        tail = text[match.end() :]
        # the weeks come right after the word: "sauf la semaine du 12 juillet", not "pas à
        # celui envoyé, il reste 4 essais"
        opening = " ".join(tail.split()[:5])
        if weeks_named(read_mentions(opening, weeks, strict=False)):
            return text[: match.start()], tail
    return text, ""


# ---------------------------------------------------------------------------- reading


def _reading(
    kind: WeekEdit,
    after: set[int],
    current: set[int],
    mentions: list[WeekMention],
    rest: str,
) -> WeekReading:
    return WeekReading(
        kind=kind,
        weeks_after=sorted(after),
        added=sorted(after - current),
        removed=sorted(current - after),
        mentions=tuple(mentions),
        rest=rest.strip(" ,;"),
    )


def read_weeks(
    text: str, weeks: Sequence[Week], current: Sequence[int] = (), expect_weeks: bool = True
) -> WeekReading | None:
    """The weeks a message leaves the registration with, given the weeks it has (current).

    None when the message says nothing about weeks. expect_weeks: the bot has just asked about
    weeks, so a bare "1" or "2-4" is a week number (otherwise only next to "semaine" or a date).
    """
    return _read(text, weeks, current, expect_weeks, removal_verbs=True)


def _read(
    text: str,
    weeks: Sequence[Week],
    current: Sequence[int],
    expect_weeks: bool,
    removal_verbs: bool,
) -> WeekReading | None:
    if not weeks:
        return None
    valid = {w.number for w in weeks}
    held = set(current) & valid
    norm = prepare(text)
    weeks_part, options_part = split_options(norm)
    strict = not expect_weeks

    swap = _replacement(weeks_part, weeks)
    if swap is not None:
        old, new = swap
        after = (held - weeks_named(old)) | weeks_named(new)
        return _reading(WeekEdit.REPLACE, after, held, [*old, *new], options_part)

    included_part, excluded_part = _split_exclusion(weeks_part, weeks, removal_verbs)
    included = read_mentions(included_part, weeks, strict)
    excluded = read_mentions(excluded_part, weeks, strict=False) if excluded_part else []
    # "avec service de garde semaines 2 à 4": the weeks are the registration's too, unless
    # the option is limited to them ("garde seulement semaines 1 et 2")
    limited = bool(lexicon.pattern("options", "only").search(options_part))
    if not included and not excluded and options_part and not limited:
        included = read_mentions(options_part, weeks, strict)
    if not included and not excluded:
        return None
    named_in, named_out = weeks_named(included), weeks_named(excluded)
    mentions = [*included, *excluded]
    every = any(m.how == "all" for m in included)
    if included and not every and lexicon.pattern("weeks", "add").search(included_part):
        return _reading(WeekEdit.ADD, (held | named_in) - named_out, held, mentions, options_part)
    if included:
        base = valid if every else named_in
        return _reading(WeekEdit.SET, base - named_out, held, mentions, options_part)
    if held:
        return _reading(WeekEdit.REMOVE, held - named_out, held, mentions, options_part)
    return _reading(WeekEdit.SET, valid - named_out, held, mentions, options_part)


def parse_weeks(text: str, weeks: Sequence[Week], expect_weeks: bool = False) -> list[int] | None:
    """The week numbers a message asks for, sorted; None when it does not talk about weeks.

    expect_weeks: the bot has just asked "quelles semaines ?", so bare numbers ("2-4", "1 et 3")
    are weeks; otherwise numbers count only next to the word "semaine" or a date.
    """
    # "enlève la semaine 3" names week 3 (the cart finds the line to remove by it), while
    # "sauf la 3" and "pas la 3" name every other week
    reading = _read(text, weeks, (), expect_weeks, removal_verbs=False)
    return reading.weeks_after if reading else None
