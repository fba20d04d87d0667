"""How the identification and checkout questions read an answer: yes, no, a question, a
corrected client number.

The readings themselves belong to parsing.py; this module only chooses them, so the validators
ask one question ("what did the parent answer?") whatever parsing.py offers. When parsing.py
has no reading of its own yet, the small fallbacks below keep the two rules the prompts cannot
do without: a question is never a yes, and "pas de problème" is not a no.
"""

from __future__ import annotations

import re
from typing import Literal

from . import parsing

Answer = Literal["yes", "no", "question", "unknown"]

# Fallbacks, used only while parsing.py lacks `read_answer` / `is_question` /
# `parse_client_number_correction`.
_YES_PHRASES = (
    "pas de probleme",
    "pas de trouble",
    "pas de soucis",
    "pas de souci",
    "ben oui",
    "bien oui",
    "certain",
    "c'est beau",
    "parfait",
    "envoye",
    "envoie",
    "let's go",
    "go",
)
_NO_PHRASES = ("pantoute", "non merci", "laisse faire", "laisse tomber", "pas vraiment")
_QUESTION_START = re.compile(
    r"^(?:est-ce|est ce|c'est quoi|cest quoi|quoi|quel|quelle|quels|quelles|combien|comment|"
    r"pourquoi|quand|ou|je peux|on peut|peut-on|puis-je|y a|y'a|ya|il y a)\b"
)
_CORRECTION = re.compile(
    r"\b(?:tromp\w*|erreur|mauvais|plutot|pas le bon|pas ca|corrige\w*|correction|oups|"
    r"le bon (?:numero|c'est)|je voulais dire)\b"
)


def is_question(text: str) -> bool:
    reader = getattr(parsing, "is_question", None)
    if reader is not None:
        return bool(reader(text))
    norm = parsing.normalize(text)
    return "?" in (text or "") or bool(_QUESTION_START.search(norm))


def read_answer(text: str) -> Answer:
    """What a parent's message answers to a yes/no question."""
    reader = getattr(parsing, "read_answer", None)
    if reader is not None:
        value = reader(text)
        name = str(getattr(value, "name", value)).lower()
        return name if name in ("yes", "no", "question") else "unknown"  # type: ignore[return-value]
    if is_question(text):
        return "question"
    norm = parsing.normalize(text).replace("’", "'")
    if any(re.search(rf"\b{re.escape(p)}\b", norm) for p in _NO_PHRASES):
        return "no"
    if any(re.search(rf"\b{re.escape(p)}\b", norm) for p in _YES_PHRASES):
        return "yes"
    answer = parsing.parse_yes_no(text)
    return "unknown" if answer is None else ("yes" if answer else "no")


def corrected_client_number(text: str) -> str | None:
    """The client number of "je me suis trompé, c'est 100001", or None when the message does not
    correct one (a bare number is a code or an answer, not a correction)."""
    reader = getattr(parsing, "parse_client_number_correction", None)
    if reader is not None:
        found = reader(text)
        return str(found) if found else None
    norm = parsing.normalize(text)
    if not _CORRECTION.search(norm):
        return None
    return parsing.parse_client_number(parsing.without_phone(text))


_CLIENT_CUE = re.compile(r"\b(?:client|dossier|carte loisirs?)\b")
_SIX_DIGITS = re.compile(r"(?<!\d)\d{6}(?!\d)")


def opening_client_number(text: str) -> str | None:
    """A client number in a message that was not an answer to "quel est votre numéro de client ?"
    ("allo, mon numéro de client c'est 100001, je veux inscrire Léa"): named as one, or six
    digits alone, so a year or an age is not taken for it."""
    rest = parsing.without_phone(text)
    if not (_CLIENT_CUE.search(rest) or _SIX_DIGITS.search(rest)):
        return None
    return parsing.parse_client_number(rest)
