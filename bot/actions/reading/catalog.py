"""Programs, sites and levels named in a message, typos and accents tolerated."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from . import lexicon
from .text import normalize


@dataclass(frozen=True)
class Named:
    id: int
    name: str
    aliases: tuple[str, ...] = ()


def category_aliases(category: str, name: str) -> tuple[str, ...]:
    words = lexicon.entry("catalog", "categories").get(category, ())
    return (name, *(str(w) for w in words))


def best_match(text: str, candidates: Sequence[Named], threshold: int = 80) -> int | None:
    """Id of the candidate whose name (or alias) the message mentions, typos and accents tolerated.

    Each name is compared with windows of the message of the same length in words, so
    "au parc des erabels svp" matches "Parc des Érables".
    """
    norm = normalize(text)
    tokens = norm.split()
    best: tuple[float, int] | None = None
    for cand in candidates:
        for alias in (cand.name, *cand.aliases):
            alias_norm = normalize(alias)
            if not alias_norm:
                continue
            size = len(alias_norm.split())
            if re.search(r"\b" + re.escape(alias_norm) + r"\b", norm):
                # exact: longer aliases win ("camp de jour" over "camp")
                score = 100.0 + len(alias_norm)
            else:
                windows = [
                    " ".join(tokens[i : i + size]) for i in range(max(1, len(tokens) - size + 1))
                ]
                hit = (
                    process.extractOne(alias_norm, windows, scorer=fuzz.ratio) if windows else None
                )
                score = float(hit[1]) if hit else 0.0
                if len(alias_norm) < 5:
                    score = 0.0 if score < 100 else score  # short words must be exact
            if score >= threshold and (best is None or score > best[0]):
                best = (score, cand.id)
    return best[1] if best else None


def parse_level(text: str) -> int | None:
    norm = normalize(text)
    words = lexicon.alternation(lexicon.entry("catalog", "level_words"))
    match = re.search(words + r"\s*\.?\s*(\d{1,2})\b", norm)
    if match:
        return int(match.group(1))
    match = re.search(r"\b(\d{1,2})\s*(?:e|eme)?\s+niveau\b", norm)
    return int(match.group(1)) if match else None


def site_words(name: str) -> tuple[str, ...]:
    """Aliases of a site: "Parc des Érables" is also "des erables", "erables"."""
    norm = normalize(name)
    aliases = [norm]
    prefixes = lexicon.alternation(lexicon.entry("catalog", "site_prefixes"))
    stripped = re.sub(r"^" + prefixes + r"\s+", "", norm)
    if stripped != norm:
        aliases.append(stripped)
        articles = lexicon.alternation(lexicon.entry("catalog", "site_articles"))
        core = re.sub(r"^" + articles + r"[\s']*", "", stripped)
        if core and core != stripped:
            aliases.append(core)
    return tuple(aliases)
