"""The word lists of bot/lexicon/, loaded once, and the patterns built from them.

Entries are written as parents type them; they are normalized like messages, and a phrase
pattern lets a space, an apostrophe or a hyphen inside it be any of the three or nothing
("c'est beau" matches "cest beau", "c est beau"; "vas-y" matches "vas y").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from .text import normalize

LEXICON_DIR = Path(__file__).resolve().parents[2] / "lexicon"


@cache
def load(name: str) -> dict[str, Any]:
    """The content of bot/lexicon/<name>.yml."""
    with (LEXICON_DIR / f"{name}.yml").open(encoding="utf-8") as file:
        data = yaml.safe_load(file)
    if not isinstance(data, dict):
        raise ValueError(f"lexicon {name}: a mapping is expected")
    _check(name, data)
    return data


def _check(name: str, value: Any) -> None:
    """YAML reads an unquoted yes, no, on or off as a boolean: such a word must be quoted."""
    if isinstance(value, bool):
        raise ValueError(f"lexicon {name}: quote the word read as {value}")
    if isinstance(value, dict):
        for key, item in value.items():
            _check(name, key)
            _check(name, item)
    elif isinstance(value, list):
        for item in value:
            _check(name, item)


def entry(name: str, *path: str) -> Any:
    value: Any = load(name)
    for key in path:
        value = value[key]
    return value


def word_set(name: str, *path: str) -> frozenset[str]:
    return frozenset(normalize(str(w)) for w in entry(name, *path))


def word_map(name: str, *path: str) -> dict[str, Any]:
    return {normalize(str(k)): v for k, v in entry(name, *path).items()}


def _phrase_regex(phrase: str) -> str:
    parts = [re.escape(p) for p in re.split(r"[\s'\-]+", normalize(phrase)) if p]
    return r"[\s'\-]*".join(parts)


def alternation(phrases: Iterable[str]) -> str:
    """One regex alternative per phrase, longest first, each between word boundaries."""
    unique = sorted(
        {normalize(str(p)) for p in phrases if normalize(str(p))}, key=len, reverse=True
    )
    inner = "|".join(_phrase_regex(p) for p in unique)
    return r"(?<![a-z0-9_])(?:" + inner + r")(?![a-z0-9_])"


@cache
def pattern(name: str, *path: str) -> re.Pattern[str]:
    """A regex matching any phrase of the list bot/lexicon/<name>.yml → path."""
    return re.compile(alternation(entry(name, *path)))
