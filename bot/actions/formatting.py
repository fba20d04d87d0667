"""Québec French formats through babel (fr_CA): money, dates, times, lists.

Sentences live in the domain; this module only formats the values put into them, and
renders "utter_fragment_*" responses (pieces of a message) from the domain the action got.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from babel.lists import format_list
from babel.numbers import format_currency

LOCALE = "fr_CA"
CITY_TZ = ZoneInfo(os.environ.get("CITY_TIMEZONE", "America/Toronto"))


def money(cents: int) -> str:
    """9500 → "95,00 $" (babel puts a no-break space before the sign)."""
    return format_currency(cents / 100, "CAD", locale=LOCALE)


def long_date(value: date | str) -> str:
    """→ "lundi 28 juin 2027"."""
    return format_date(_as_date(value), "EEEE d MMMM y", locale=LOCALE)


def calendar_date(value: date | str) -> str:
    """→ "30 septembre 2027" (a date named for itself, not as a day of the week)."""
    return format_date(_as_date(value), "d MMMM y", locale=LOCALE)


def short_date(value: date | str) -> str:
    """→ "28 juin"."""
    return format_date(_as_date(value), "d MMMM", locale=LOCALE)


def local_time(value: str | datetime) -> str:
    """A naive-UTC instant from the backend → "19 h 30" in the city's time zone."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    local = moment.astimezone(CITY_TZ)
    return format_time(local, "H 'h' mm", locale=LOCALE)


def local_datetime(value: str | datetime) -> str:
    """→ "mardi 20 avril 2027, 19 h 00"."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    local = moment.astimezone(CITY_TZ)
    day = format_date(local.date(), "EEEE d MMMM y", locale=LOCALE)
    return day + ", " + format_time(local, "H 'h' mm", locale=LOCALE)


def _as_date(value: date | str) -> date:
    return date.fromisoformat(value[:10]) if isinstance(value, str) else value


def fragment(domain: Mapping[str, Any], name: str, **values: Any) -> str:
    """The text of a domain response, filled with values (for pieces assembled into one message)."""
    variants = domain.get("responses", {}).get(name) or [{"text": ""}]
    return str(variants[0].get("text", "")).format(**values)


def date_range(domain: Mapping[str, Any], starts_on: date | str, ends_on: date | str) -> str:
    """→ "5 au 9 juillet", or "28 juin au 2 juillet" across two months (the style guide's form)."""
    start, end = _as_date(starts_on), _as_date(ends_on)
    same_month = (start.year, start.month) == (end.year, end.month)
    return fragment(
        domain,
        "utter_fragment_dates",
        start=str(start.day) if same_month else short_date(start),
        end=short_date(end),
    )


def join_words(domain: Mapping[str, Any], items: Iterable[str]) -> str:
    """["2", "3", "4"] → "2, 3 et 4" (babel's list pattern for fr_CA)."""
    items = [i for i in items if i]
    return format_list(items, locale=LOCALE) if items else ""


def or_words(items: Iterable[str]) -> str:
    """["Léa", "Thomas"] → "Léa ou Thomas": every "A, B ou C" choice is written here."""
    items = [i for i in items if i]
    return format_list(items, style="or", locale=LOCALE) if items else ""
