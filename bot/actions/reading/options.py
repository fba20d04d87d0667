"""The camp's options a message takes or turns down, per clause, and the weeks they are for."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

from . import lexicon
from .text import normalize
from .weeks import Week, read_mentions, weeks_named


@dataclass
class OptionsChoice:
    """What the message says about options: code → True (wanted), False (refused).

    weeks: code → the week numbers it is limited to ("service de garde semaine 2 seulement");
    absent means every week of the registration.
    """

    wanted: dict[str, bool] = field(default_factory=dict)
    weeks: dict[str, list[int]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.wanted


@cache
def _option_patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    named = lexicon.entry("options", "options")
    return tuple(
        (str(code), re.compile(lexicon.alternation(words))) for code, words in named.items()
    )


def option_named(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    """The first place the pattern names an option, not a verb: "je garde la 3" keeps a week."""
    subjects = re.compile(lexicon.pattern("options", "verb_subjects").pattern + r"\s*$")
    for match in pattern.finditer(text):
        if " " in match.group(0) or not subjects.search(text[: match.start()]):
            return match
    return None


def first_option(text: str) -> re.Match[str] | None:
    """Where the text first names any option (the weeks reader cuts the text there)."""
    found = [m for _, p in _option_patterns() if (m := option_named(p, text))]
    return min(found, key=lambda m: m.start()) if found else None


def _any_option(norm: str) -> bool:
    return first_option(norm) is not None


def _clauses(norm: str) -> list[str]:
    return [
        c
        for c in re.split(
            r",|;|\bmais\b|\bpuis\b|\bpis\b|\bet\b(?= (?:pas|sans|le|la|avec|du|de))", norm
        )
        if c.strip()
    ]


def refuses_every_option(text: str) -> bool:
    """ "Aucune", "ni l'un ni l'autre" answering the question about one option: none of them;
    "non" alone turns down only the option asked."""
    norm = normalize(text)
    return bool(lexicon.pattern("options", "refuse_all").search(norm)) and not _any_option(norm)


def parse_options(text: str, weeks: Sequence[Week] = (), asked: bool = False) -> OptionsChoice:
    """Options named in a message, with negation ("pas de service de garde") handled per clause.

    asked: the bot has just asked about options, so "non"/"aucun" refuse both and "les deux"
    takes both. Weeks after an option limit it to them ("garde seulement semaines 1 et 2").
    """
    norm = normalize(text)
    choice = OptionsChoice()
    codes = [code for code, _ in _option_patterns()]
    none = lexicon.pattern("options", "none").match(norm)
    if asked and none and not _any_option(norm):
        return OptionsChoice(wanted=dict.fromkeys(codes, False))
    if asked and lexicon.pattern("options", "all").search(norm):
        return OptionsChoice(wanted=dict.fromkeys(codes, True))
    negation = lexicon.pattern("options", "negation")
    for clause in _clauses(norm):
        for code, pattern in _option_patterns():
            found = option_named(pattern, clause)
            if not found:
                continue
            before = clause[: found.start()]
            negated = bool(negation.search(before[-25:]))
            choice.wanted[code] = not negated
            if not negated and weeks:
                limited = weeks_named(read_mentions(clause[found.end() :], weeks, strict=True))
                if limited:
                    choice.weeks[code] = sorted(limited)
    return choice
