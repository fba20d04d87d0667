"""Yes, no, a question, "les deux", or only "ok/merci": what a short answer says in context.

A question is never a yes ("y a tu de la place à l'autre parc?" at the waitlist prompt), a
negated phrase is read whole ("pas de problème" is a yes while "pas" alone is a no), and what
follows the yes or the no is kept for the caller ("non, plutôt Thomas" → NO, rest "plutot thomas").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from functools import cache

from . import lexicon
from .text import normalize


class AnswerKind(Enum):
    YES = "yes"
    NO = "no"
    QUESTION = "question"
    BOTH = "both"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Answer:
    kind: AnswerKind
    rest: str = ""  # the words after the yes or the no, normalized ("" when none)

    @property
    def yes(self) -> bool:
        return self.kind is AnswerKind.YES

    @property
    def no(self) -> bool:
        return self.kind is AnswerKind.NO


class Continuation(Enum):
    CONTINUE = "continue"
    THANKS = "thanks"


def _fold(text: str) -> str:
    """normalize() without its punctuation: words separated by single spaces."""
    return " ".join(re.findall(r"[a-z0-9]+", normalize(text)))


@cache
def _whole(name: str, *path: str) -> frozenset[str]:
    """The list's phrases without spaces, to compare with _bare() of a whole message."""
    return frozenset(_bare(str(p)) for p in lexicon.entry(name, *path))


def _bare(text: str) -> str:
    return _fold(text).replace(" ", "")


@cache
def _lead(name: str, *path: str) -> re.Pattern[str]:
    """A phrase of the list at the start of a folded message ("cest beau" is "c'est beau")."""
    phrases = {_fold(str(p)) for p in lexicon.entry(name, *path)}
    ordered = sorted((p for p in phrases if p), key=len, reverse=True)
    inner = "|".join(r"\s*".join(re.escape(w) for w in p.split()) for p in ordered)
    return re.compile(r"^(?:" + inner + r")(?![a-z0-9])")


def _fillers() -> re.Pattern[str]:
    return _lead("answers", "fillers")


def _strip_fillers(folded: str) -> str:
    fillers = _fillers()
    while True:
        match = fillers.match(folded)
        if not match or match.end() == len(folded):
            return folded
        folded = folded[match.end() :].lstrip()


# ---------------------------------------------------------------------------- questions


@cache
def _particle_pattern() -> re.Pattern[str]:
    particles = "|".join(
        re.escape(normalize(p)).replace(r"\-", r"[\s\-]")
        for p in lexicon.entry("answers", "question", "particle")
    )
    after = lexicon.alternation(lexicon.entry("answers", "question", "particle_after"))
    # "peux-tu", "reste-t-il" (a hyphen), or "y a tu", "c'est tu" (a space after known words)
    return re.compile(
        r"[a-z]-(?:"
        + particles
        + r")(?![a-z0-9])|"
        + after
        + r"\s+(?:"
        + particles
        + r")(?![a-z0-9])"
    )


def is_question(text: str) -> bool:
    """The message asks something (a question mark, a question word first, a "-tu" form).

    Messages that only move on ("pis là ?", "c'est quoi la suite") or agree ("pourquoi pas ?")
    are not questions: see read_continue and read_answer.
    """
    folded = _fold(text)
    if not folded or _bare(text) in _whole("answers", "question", "not_questions"):
        return False
    if read_continue(text) is not None:
        return False
    if "?" in (text or ""):
        return True
    plain = _strip_fillers(folded)
    if _lead("answers", "question", "starts").match(plain):
        return True
    norm = normalize(text)
    return bool(_particle_pattern().search(norm) or re.search(r"\best[\s\-]ce qu", norm))


# ---------------------------------------------------------------------------- yes / no


def _first_answer(folded: str) -> tuple[AnswerKind, str] | None:
    """The yes or no that opens the message, and what follows it."""
    unsure = _lead("answers", "unsure").match(folded)
    if unsure:
        return None
    candidates: list[tuple[int, AnswerKind]] = []
    for kind, key in ((AnswerKind.YES, "yes"), (AnswerKind.NO, "no")):
        for group in ("phrases", "words"):
            match = _lead("answers", key, group).match(folded)
            if match:
                candidates.append((match.end(), kind))
    if not candidates:
        return None
    end, kind = max(candidates, key=lambda c: c[0])  # the longest reading: "pas de trouble"
    return kind, folded[end:].strip()


def _emoji(text: str) -> AnswerKind | None:
    yes = any(e in text for e in lexicon.entry("answers", "emoji", "yes"))
    no = any(e in text for e in lexicon.entry("answers", "emoji", "no"))
    if no:
        return AnswerKind.NO
    return AnswerKind.YES if yes else None


def reads_both(text: str) -> bool:
    """ "les deux", "les 2", "tous les deux": both of the two things the bot just offered."""
    return bool(lexicon.pattern("answers", "both").search(normalize(text)))


def _opens_with_both(folded: str) -> bool:
    match = lexicon.pattern("answers", "both").search(folded)
    return bool(match and match.start() == 0)


def read_answer(text: str) -> Answer:
    """What a message says at a yes/no question (QUESTION wins over any yes or no in it)."""
    raw = text or ""
    folded = _fold(raw)
    if not folded:
        emoji = _emoji(raw)
        return Answer(emoji) if emoji else Answer(AnswerKind.UNKNOWN)
    if is_question(raw):
        return Answer(AnswerKind.QUESTION)
    plain = _strip_fillers(folded)
    if _opens_with_both(plain):
        return Answer(AnswerKind.BOTH)
    opening = _first_answer(plain)
    if opening is not None:
        kind, rest = opening
        if kind is AnswerKind.YES and _opens_with_both(rest):
            return Answer(AnswerKind.BOTH)  # "oui les deux"
        negated = _first_answer(rest) if kind is AnswerKind.YES and rest else None
        if negated and negated[0] is AnswerKind.NO and not negated[1]:
            # "absolument pas" is a no; "oui non" says both
            if _lead("answers", "intensifiers").match(plain):
                return Answer(AnswerKind.NO)
            # "pas de trouble pantoute": the no only stresses a yes said in the negative
            if not plain.startswith(("pas ", "sans ")):
                return Answer(AnswerKind.UNKNOWN)
        return Answer(kind, rest)
    emoji = _emoji(raw)
    if emoji:
        return Answer(emoji)
    if _lead("answers", "unsure").match(plain):
        return Answer(AnswerKind.UNKNOWN)
    # a clear yes or no later in the message ("pour les deux c'est oui")
    said = set(plain.split())
    strong_yes = bool(said & lexicon.word_set("answers", "yes", "anywhere"))
    strong_no = bool(said & lexicon.word_set("answers", "no", "anywhere"))
    if strong_yes != strong_no:
        return Answer(AnswerKind.YES if strong_yes else AnswerKind.NO)
    return Answer(AnswerKind.UNKNOWN)


def parse_yes_no(text: str) -> bool | None:
    """True for a yes, False for a no, None for anything else (a question included)."""
    kind = read_answer(text).kind
    if kind is AnswerKind.YES:
        return True
    if kind is AnswerKind.NO:
        return False
    return None


# ---------------------------------------------------------------------------- moving on


def read_continue(text: str) -> Continuation | None:
    """THANKS or CONTINUE when the whole message only thanks or only asks to go on
    ("merci", "pis là ?", "c'est quoi la suite", "on continue"); None otherwise."""
    folded = _fold(text)
    if not folded:
        return None
    polite = lexicon.pattern("continue", "polite").sub(" ", folded)
    readings = (_bare(polite), _bare(lexicon.pattern("continue", "around").sub(" ", polite)))
    for value, key in ((Continuation.THANKS, "thanks"), (Continuation.CONTINUE, "continue")):
        phrases = _whole("continue", key)
        if any(r and r in phrases for r in readings):
            return value
    return None


def read_done(text: str) -> bool:
    """True when the whole message says there is nothing more to add ("ça va être toute",
    "ce sera tout"): at the next-step question it asks for the checkout."""
    folded = _fold(text)
    if not folded:
        return False
    polite = lexicon.pattern("continue", "polite").sub(" ", folded)
    readings = (_bare(polite), _bare(lexicon.pattern("continue", "around").sub(" ", polite)))
    phrases = _whole("continue", "done")
    return any(r and r in phrases for r in readings)
