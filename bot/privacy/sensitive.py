"""Does a parent's message say something the tracker store must not keep?

Health, medication, allergies, diagnoses and the numéro d'assurance sociale (Loi 25): the list
is data, in sensitive.yml next to this module, matched on the folded message (lowercase, no
accents, apostrophes and hyphens as spaces) so "ALLERGIQUE", "allergique" and "alergique" are
caught alike. Used by the tracker store (bot/tracker_store.py) and by the actions, which never
copy such a message into a slot.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

MASK = "[masqué]"
LIST_PATH = Path(__file__).with_name("sensitive.yml")


def fold(text: str) -> str:
    """Lowercase, accents removed, every run of non-letters or digits a single space."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    bare = bare.replace("œ", "oe").replace("æ", "ae")
    return " ".join(re.findall(r"[a-z0-9]+", bare))


@dataclass(frozen=True)
class SensitiveList:
    slots: frozenset[str]
    prefixes: tuple[str, ...]
    words: frozenset[str]
    phrases: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]

    def mentions(self, text: str | None) -> bool:
        """True when the message mentions health, medication, an allergy, a diagnosis or a NAS."""
        if not text:
            return False
        if any(p.search(text) for p in self.patterns):
            return True
        folded = fold(text)
        tokens = folded.split()
        if any(t in self.words or t.startswith(self.prefixes) for t in tokens):
            return True
        padded = f" {folded} "
        return any(f" {phrase} " in padded for phrase in self.phrases)


@lru_cache(maxsize=1)
def sensitive_list() -> SensitiveList:
    data = yaml.safe_load(LIST_PATH.read_text(encoding="utf-8")) or {}
    return SensitiveList(
        slots=frozenset(data.get("sensitive_slots") or []),
        # entries are folded like messages, so a hyphen or an accent in the file still matches
        prefixes=tuple(fold(p).replace(" ", "") for p in data.get("prefixes") or []),
        words=frozenset(fold(w) for w in data.get("words") or []),
        phrases=tuple(fold(p) for p in data.get("phrases") or []),
        patterns=tuple(re.compile(p) for p in data.get("patterns") or []),
    )


def mentions_sensitive(text: str | None) -> bool:
    return sensitive_list().mentions(text)
