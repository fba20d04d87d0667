"""What a price question asks for: which activity, how many weeks, which options
("combien pour 3 semaines de camp avec la garde ?").

Pure reading (no I/O); the words are data in bot/lexicon/helpdesk_faq.yml.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

from . import parsing
from .parsing import Named
from .reading import lexicon
from .reading.numbers import number_words
from .reading.text import normalize

WHOLE_SEASON = -1  # "tout l'été": every week the activity has


@dataclass(frozen=True)
class PriceQuestion:
    program_id: int | None = None
    weeks: int | None = None  # a count, WHOLE_SEASON, or None when not said
    options: frozenset[str] = field(default_factory=frozenset)

    @property
    def asks_a_total(self) -> bool:
        return self.weeks is not None


@cache
def _count_before_weeks() -> re.Pattern[str]:
    counts = "|".join(sorted(map(re.escape, number_words()), key=len, reverse=True))
    weeks = lexicon.alternation(lexicon.entry("helpdesk_faq", "week_words"))
    return re.compile(r"(?<![a-z0-9])(\d{1,2}|" + counts + r")\s*" + weeks)


def read_weeks_count(text: str) -> int | None:
    norm = normalize(text)
    if lexicon.pattern("helpdesk_faq", "whole_season").search(norm):
        return WHOLE_SEASON
    found = _count_before_weeks().search(norm)
    if not found:
        return None
    said = found.group(1)
    count = int(said) if said.isdigit() else number_words().get(said)
    return count if count and count > 0 else None


def read_price_question(text: str, programs: Sequence[Named]) -> PriceQuestion:
    chosen = parsing.parse_options(text)
    return PriceQuestion(
        program_id=parsing.best_match(text, programs),
        weeks=read_weeks_count(text),
        options=frozenset(code for code, wanted in chosen.wanted.items() if wanted),
    )


def public_question(text: str) -> str | None:
    """The public answer a message asks for when it does not ask to register anyone: a price
    ("2 sem de camp + garde ça revient à cb ?") or how to pay ("je peux faire deux
    paiements ?"), which the model may take for a registration. None otherwise."""
    norm = normalize(text)
    if lexicon.pattern("helpdesk_faq", "register_words").search(norm):
        return None
    if lexicon.pattern("helpdesk_faq", "price_cues").search(norm) and not lexicon.pattern(
        "helpdesk_faq", "not_price"
    ).search(norm):
        return "prices"
    if lexicon.pattern("helpdesk_faq", "payment_cues").search(norm):
        return "payment_terms"
    return None
