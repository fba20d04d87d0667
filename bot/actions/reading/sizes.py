"""T-shirt sizes in free text: "M", "grandeur moyen", "mettez-lui un M", "taille 10-12"."""

from __future__ import annotations

import re
from functools import cache

from . import lexicon
from .text import normalize

SIZES: tuple[str, ...] = tuple(lexicon.entry("sizes", "codes"))


@cache
def _ages() -> re.Pattern[str]:
    labels = sorted(lexicon.entry("sizes", "ages"), key=len, reverse=True)
    inner = "|".join(re.escape(str(label)).replace(r"\-", r"\s*[\-/a]\s*") for label in labels)
    return re.compile(r"(?<![\d])(" + inner + r")(?:\s*ans)?(?![\d])")


def _age_size(norm: str) -> str | None:
    match = _ages().search(norm)
    if not match:
        return None
    label = re.sub(r"\s*[\-/a]\s*", "-", match.group(1))
    sizes: dict[str, str] = {str(k): v for k, v in lexicon.entry("sizes", "ages").items()}
    return sizes.get(label)


def parse_tshirt(text: str) -> str | None:
    norm = normalize(text)
    for phrase, size in sorted(
        lexicon.word_map("sizes", "phrases").items(), key=lambda p: len(p[0]), reverse=True
    ):
        if phrase in norm:
            return str(size)
    # "l'eczéma" holds no size "l": a letter before an apostrophe is an elision
    tokens = re.findall(r"[a-z0-9]+(?!['a-z0-9])", norm)
    context = bool(lexicon.pattern("sizes", "context").search(norm))
    for token in tokens:
        if token in lexicon.word_map("sizes", "words"):
            return str(lexicon.word_map("sizes", "words")[token])
    letters = lexicon.word_map("sizes", "letters")
    articles = lexicon.word_set("sizes", "article")
    for i, token in enumerate(tokens):
        after_article = i > 0 and tokens[i - 1] in articles and (context or i == len(tokens) - 1)
        if token in letters and (len(tokens) <= 3 or context or after_article):
            return str(letters[token])
        if context and token in lexicon.word_map("sizes", "adjectives"):
            return str(lexicon.word_map("sizes", "adjectives")[token])
    return _age_size(norm) if context else None
