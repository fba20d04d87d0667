"""Numbers parents type: choice numbers, client numbers, phone numbers, one-time codes."""

from __future__ import annotations

import re
from functools import cache

from . import lexicon
from .text import normalize, words


@cache
def number_words() -> dict[str, int]:
    """Cardinal and ordinal words → their value ("deux" → 2, "3e" → 3, "premiere" → 1)."""
    return {
        **lexicon.word_map("numbers", "cardinal"),
        **lexicon.word_map("numbers", "ordinal"),
    }


def digits_groups(text: str) -> list[str]:
    """Runs of digits, joining the separators people put inside phone numbers."""
    norm = normalize(text)
    # "418 555-0101", "(418) 555 0101", "418.555.0101" → one run
    joined = re.sub(r"(?<=\d)[\s\-.)(/]+(?=\d)", "", norm.replace("(", " ").replace(")", " "))
    return re.findall(r"\d+", joined)


def parse_client_number(text: str) -> str | None:
    """A client number: 4 to 8 digits alone (phone numbers and codes are told apart by context)."""
    for token in re.findall(r"\d+", normalize(text).replace(" ", "")):
        if 4 <= len(token) <= 8:
            return str(token)
    return None


def read_client_correction(text: str) -> str | None:
    """The client number a parent gives to correct the one said before ("je me suis trompé,
    c'est 100001", "mauvais numéro, c'est 100001"); None when the message corrects nothing."""
    norm = normalize(text)
    if not lexicon.pattern("identification", "correction").search(norm):
        return None
    numbers = [str(t) for t in re.findall(r"(?<!\d)\d{4,8}(?!\d)", without_phone(norm))]
    return numbers[-1] if numbers else None


PHONE = re.compile(r"(?<![\d])(?:\+?1[\s\-.]?)?\(?(\d{3})\)?[\s\-.]?(\d{3})[\s\-.]?(\d{4})(?!\d)")


def parse_phone(text: str) -> str | None:
    """A North American phone number as 10 digits, or None ("418 555-0101", "+1 (418) 555 0101")."""
    match = PHONE.search(normalize(text).replace("(", " (").replace(")", ") "))
    if match:
        return "".join(match.groups())
    return None


def without_phone(text: str) -> str:
    """The message with its phone number taken out (so its digits are not read as anything else)."""
    return PHONE.sub(" ", normalize(text))


def parse_code(text: str) -> str | None:
    """A 6-digit one-time code, spaces tolerated ("482 913"); never the client number of a
    correction ("je me suis trompé, c'est 100001")."""
    if read_client_correction(text) is not None:
        return None
    norm = normalize(text)
    match = re.search(r"(?<!\d)(\d{3})[\s\-]?(\d{3})(?!\d)", norm)
    return match.group(1) + match.group(2) if match else None


def parse_small_number(text: str, maximum: int = 20) -> int | None:
    """A bare choice number ("2", "le 2e", "deux") as parents answer numbered lists."""
    known = number_words()
    for token in words(text):
        if token.isdigit() and 0 < int(token) <= maximum:
            return int(token)
        if token in known and known[token] <= maximum:
            return known[token]
    return None


def parse_installments(text: str) -> int | None:
    norm = normalize(text)
    if lexicon.pattern("numbers", "installments", "two").search(norm):
        return 2
    if lexicon.pattern("numbers", "installments", "one").search(norm):
        return 1
    return None
