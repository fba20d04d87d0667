"""Phone numbers: one canonical form (E.164), matching, and what a parent is shown of them.

Parsing goes through `phonenumbers` (Google's libphonenumber data): a number typed without a
country is read as North American, and only a number that can exist in its country is accepted,
so "555-0101" or an area code starting with 0 is refused instead of being stored as typed.
"""

from __future__ import annotations

import re

import phonenumbers

DEFAULT_REGION = "CA"
_DIGITS = re.compile(r"\D+")


def _parse(raw: str) -> phonenumbers.PhoneNumber | None:
    text = raw.strip()
    if not text or len(text) > 32:
        return None
    try:
        number = phonenumbers.parse(text, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def normalize_phone(raw: str) -> str | None:
    """A phone number in E.164, or None if it cannot be one.

    "418-555-0101", "(418) 555-0101", "4185550101", "1 418 555 0101" and "+14185550101" all give
    "+14185550101" (North American numbers; other countries must come with their "+").
    """
    number = _parse(raw)
    if number is None:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def same_phone(typed: str, on_file: str) -> bool:
    """Whether two spellings name the same line ("418 555-0101" and "+1 418-555-0101")."""
    a, b = _parse(typed), _parse(on_file)
    if a is None or b is None:
        return False
    return phonenumbers.is_number_match(a, b) == phonenumbers.MatchType.EXACT_MATCH


def mask_phone(phone: str) -> str:
    """ "+14185550101" -> "***-***-0101" (enough for a parent to recognise their number)."""
    digits = _DIGITS.sub("", phone)
    return f"***-***-{digits[-4:]}" if len(digits) >= 4 else "***"


def mask_email(email: str) -> str:
    """ "julie.tremblay@example.com" -> "j***@example.com"."""
    local, _sep, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"
