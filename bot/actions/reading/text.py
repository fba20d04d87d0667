"""Normalisation shared by every reader: what two spellings of the same words have in common."""

from __future__ import annotations

import re
import unicodedata

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'"})


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalize(text: str) -> str:
    """Lowercase, no accents, straight apostrophes, single spaces; digits and letters kept."""
    text = strip_accents((text or "").translate(_APOSTROPHES)).lower()
    text = re.sub(r"[^\w\s'\-+/,.:]", " ", text)  # emojis and symbols become spaces
    return re.sub(r"\s+", " ", text).strip()


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", normalize(text))
