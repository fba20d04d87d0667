"""What one message means at a question: yes, no, both, a question, a T-shirt size.

The readings themselves (word lists, Québec forms) belong to parsing.py; this module only
asks it, so that the registration flow depends on one small surface.
"""

from __future__ import annotations

import re

from . import parsing

YES, NO, BOTH, QUESTION = "yes", "no", "both", "question"

# Question words that open a question written without its "?" (SMS style).
_QUESTION_START = re.compile(
    r"^(?:est-ce|est ce|pourquoi|comment|combien|quand|ou est|quel|quelle|quels|quelles|"
    r"y a tu|y a-t-il|ya tu|c'est quoi|je peux|on peut|peut-on|puis-je)\b"
)


def is_question(text: str) -> bool:
    reader = getattr(parsing, "is_question", None)
    if reader is not None:
        return bool(reader(text))
    norm = parsing.normalize(text)
    return "?" in text or bool(_QUESTION_START.search(norm))


def answer(text: str) -> str | None:
    """YES / NO / BOTH / QUESTION, or None when the message is none of them."""
    reader = getattr(parsing, "read_answer", None)
    if reader is not None:
        kind = getattr(reader(text), "kind", None)
        value = str(getattr(kind, "value", kind) or "")
        return value if value in (YES, NO, BOTH, QUESTION) else None
    if is_question(text):
        return QUESTION
    if parsing.BOTH.search(parsing.normalize(text)):
        return BOTH
    said = parsing.parse_yes_no(text)
    return None if said is None else (YES if said else NO)


def says_both(text: str) -> bool:
    return answer(text) == BOTH or bool(parsing.BOTH.search(parsing.normalize(text)))


# "mettez-lui un M", "un medium pour elle": a size named without the word "taille".
_SIZE_GIVEN = re.compile(r"\b(?:mettez|mets|met|mettre|donnez|prends|prenez)[- ]?(?:lui|y)?\b")


def tshirt_size(text: str, asked: bool) -> str | None:
    reader = getattr(parsing, "read_tshirt", None)
    if reader is not None:
        return reader(text) if not asked else (reader(text) or parsing.parse_tshirt(text))
    norm = parsing.normalize(text)
    if asked or "taille" in norm or "chandail" in norm or _SIZE_GIVEN.search(norm):
        return parsing.parse_tshirt(text)
    return None
