"""Which of the family's children a message names: first names, "les deux", "ma plus vieille"."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from rapidfuzz import fuzz

from . import lexicon
from .answers import parse_yes_no
from .numbers import parse_small_number
from .text import normalize


@dataclass(frozen=True)
class Child:
    id: int
    first_name: str
    birth_date: date


BOTH = lexicon.pattern("children", "both")
OLDEST = lexicon.pattern("children", "oldest")
YOUNGEST = lexicon.pattern("children", "youngest")
NAME_FILLERS = lexicon.word_set("names", "fillers")


def parse_children(
    text: str, children: Sequence[Child], allow_number: bool = False
) -> list[int] | None:
    """Which children of the family the message names; None when it names none.

    Understands first names (no accents, small typos), "les deux", "ma plus vieille",
    "mon plus jeune", and a bare choice number when the bot has just listed the children.
    """
    if not children:
        return None
    norm = normalize(text)
    tokens = re.findall(r"[a-z0-9\-]+", norm)
    named: list[int] = []
    for child in children:
        name = normalize(child.first_name)
        parts = [p for p in re.split(r"[\s\-]+", name) if p]
        if re.search(r"\b" + re.escape(name) + r"\b", norm):
            named.append(child.id)
            continue
        for token in tokens:
            if len(token) >= 3 and (
                fuzz.ratio(token, name) >= 80 or (len(parts) > 1 and token == parts[0])
            ):
                named.append(child.id)
                break
    if named:
        return sorted(set(named), key=[c.id for c in children].index)
    if BOTH.search(norm) and len(children) >= 2:
        return [c.id for c in children]
    by_age = sorted(children, key=lambda c: c.birth_date)
    if OLDEST.search(norm):
        return [by_age[0].id]
    if YOUNGEST.search(norm):
        return [by_age[-1].id]
    if allow_number:
        number = parse_small_number(norm, maximum=len(children))
        if number:
            return [children[number - 1].id]
    return None


def unknown_name(text: str) -> str | None:
    """A first name said where a child was asked for, when it is not one of the family's
    ("c'est pour Olivier" → "Olivier"): one word of letters once the usual filler words are
    set aside; None when the message says anything else."""
    raw_words = re.findall(r"[^\W\d_]+(?:[-'][^\W\d_]+)*", text or "")
    left = [w for w in raw_words if normalize(w) not in NAME_FILLERS]
    if len(left) != 1 or len(left[0]) < 3 or len(raw_words) > 6:
        return None
    word = str(left[0])
    if parse_yes_no(word) is not None:
        return None
    return word[:1].upper() + word[1:]
