"""What a new parent types to open a family file: a courriel, a name, an address, children
with their birth dates ("Zoé 2 mars 2018, Félix 2020-11-20"). Month names come from
bot/lexicon/calendar.yml."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from . import lexicon
from .text import normalize

EMAIL = re.compile(r"[^@\s,;<>()]+@[^@\s,;<>()]+\.[a-z]{2,}", re.IGNORECASE)


def parse_email(text: str) -> str | None:
    found = EMAIL.search(text or "")
    return found.group(0).strip(".").lower() if found else None


_NAME_WORD = re.compile(r"^[^\W\d_]+(?:[-'][^\W\d_]+)*$")


def parse_person_name(text: str) -> tuple[str, str] | None:
    """(first name, last name) from "Sophie Gagnon", "je m'appelle Sophie Gagnon-Roy"; None
    without two name words, or with digits."""
    if re.search(r"\d", text or ""):
        return None
    fillers = lexicon.word_set("new_file", "name_fillers")
    words = [w.strip(".,!") for w in re.split(r"[\s']+", text or "")]
    kept = [w for w in words if w and normalize(w) not in fillers]
    if len(kept) < 2 or not all(_NAME_WORD.match(w) for w in kept) or len(kept) > 5:
        return None
    first, *rest = [w[:1].upper() + w[1:] for w in kept]
    return first, " ".join(rest)


def parse_address(text: str) -> str | None:
    """An address with its civic number and a street ("12, rue des Lilas, Val-Fleuri")."""
    cleaned = " ".join((text or "").split())
    if not re.search(r"\d", cleaned) or len(re.findall(r"[^\W\d_]{2,}", cleaned)) < 2:
        return None
    return cleaned[:200] if len(cleaned) >= 5 else None


@dataclass(frozen=True)
class NewChild:
    first_name: str
    birth_date: date | None  # None: a date was written but is not a real one


def _months() -> dict[str, int]:
    return {
        **lexicon.word_map("calendar", "months"),
        **lexicon.word_map("calendar", "abbreviations"),
    }


def _date_in(piece: str) -> tuple[date | None, str] | None:
    """(date or None when impossible, the date's text) of the first date in `piece`."""
    norm = normalize(piece)
    iso = re.search(r"\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\b", norm)
    dmy = re.search(r"\b(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})\b", norm)
    months = _months()
    words = re.search(r"\b(\d{1,2})(?:er)? ([a-z]+)\.? (\d{4})\b", norm)
    try:
        if iso:
            return date(int(iso[1]), int(iso[2]), int(iso[3])), iso[0]
        if dmy:
            return date(int(dmy[3]), int(dmy[2]), int(dmy[1])), dmy[0]
        if words and words[2] in months:
            return date(int(words[3]), months[words[2]], int(words[1])), words[0]
    except ValueError:
        found = iso or dmy or words
        return None, found[0] if found else piece
    return None


_SEPARATORS = re.compile(r"\s*(?:;|\n|,(?!\s*\d{4})|\bet\b)\s*", re.IGNORECASE)


def parse_children(text: str) -> list[NewChild] | None:
    """Each child's first name and birth date; None unless every piece names one with a date."""
    pieces = [p for p in _SEPARATORS.split(text or "") if p and p.strip(" ,.")]
    found: list[NewChild] = []
    for piece in pieces:
        dated = _date_in(piece)
        if dated is None:
            if found and not re.search(r"[^\W\d_]{2,}", piece):
                continue
            return None
        born, written = dated
        rest = normalize(piece).replace(written, " ")
        name_words = [
            w
            for w in re.findall(r"[^\W\d_]+(?:-[^\W\d_]+)*", piece)
            if normalize(w) not in _months()
            and normalize(w) not in lexicon.word_set("new_file", "date_fillers")
        ]
        if not name_words or not rest.strip():
            return None
        found.append(NewChild(name_words[0][:1].upper() + name_words[0][1:], born))
    return found or None


def says_no_email(text: str) -> bool:
    return normalize(text).strip(" .!") in lexicon.word_set("new_file", "no_email")


def plausible_birth_date(born: date, today: date) -> bool:
    """A child of this program: born at most 18 years ago, and not in the future."""
    return today >= born and (today.year - born.year) <= 18
