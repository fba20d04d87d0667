"""Which weeks of a season a piece of text names: numbers, ranges, dates, a month, "the first".

Each way of naming weeks is read in turn and taken out of the text, so its digits are not read
again ("du 5 au 16 juillet" is a range of dates, not weeks 5 to 16). A month holds the weeks
with most of their weekdays in it (see month_of_week). Every reading says how it was made
(WeekMention), so the bot can state the weeks it understood.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from . import lexicon
from .numbers import number_words
from .text import normalize


@dataclass(frozen=True)
class Week:
    number: int
    starts_on: date
    ends_on: date


@dataclass(frozen=True)
class WeekMention:
    """One way the text named weeks.

    how: "number" (weeks by number or range), "all", "month", "dates" (a range of dates),
    "date" (the week of a date), "first" or "last" (count weeks from either end).
    """

    how: str
    weeks: tuple[int, ...]
    month: int | None = None
    start: date | None = None
    end: date | None = None
    count: int | None = None

    @property
    def inferred(self) -> bool:
        """The weeks were worked out, not named: the bot says which ones it understood."""
        return self.how in ("month", "dates", "date", "first", "last")


def month_of_week(week: Week) -> int:
    """The month holding most of the week's weekdays (a tie goes to the month it starts in).

    With a camp starting Monday June 28, week 1 (three days in June, two in July) is June's.
    """
    days = [
        week.starts_on + timedelta(days=i)
        for i in range((week.ends_on - week.starts_on).days + 1)
        if (week.starts_on + timedelta(days=i)).weekday() < 5
    ] or [week.starts_on]
    counts = Counter(d.month for d in days)
    best = max(counts.values())
    return next(d.month for d in days if counts[d.month] == best)


def weeks_of_month(weeks: Sequence[Week], month: int) -> list[int]:
    return [w.number for w in weeks if month_of_week(w) == month]


# ---------------------------------------------------------------------------- patterns


MONTHS: dict[str, int] = {
    **lexicon.word_map("calendar", "months"),
    **lexicon.word_map("calendar", "abbreviations"),
}


@cache
def _months() -> dict[str, int]:
    return lexicon.word_map("calendar", "months")


@cache
def _month_or_abbreviation() -> dict[str, int]:
    return MONTHS


def _alt(names: Iterable[str]) -> str:
    return "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))


@cache
def _date_range() -> re.Pattern[str]:
    month = _alt(_month_or_abbreviation())
    return re.compile(
        r"(?:\b(?:du|de|entre)\s+(?:le\s+)?)?\b(\d{1,2})(?:er)?(?:\s+(" + month + r"))?\.?\s*"
        r"(?:au|a|-|et|jusqu'?\s?au|jusqu'?\s?a|jusque)\s*(?:le\s+)?(\d{1,2})(?:er)?\s+("
        + month
        + r")\b"
    )


@cache
def _single_date() -> re.Pattern[str]:
    return re.compile(r"\b(\d{1,2})(?:er)?\s+(" + _alt(_month_or_abbreviation()) + r")\b\.?")


@cache
def _ends() -> re.Pattern[str]:
    count = _alt([*number_words(), *[str(n) for n in range(1, 21)]])
    first = _alt(lexicon.word_set("numbers", "first"))
    last = _alt(lexicon.word_set("numbers", "last"))
    before_last = lexicon.alternation(lexicon.entry("numbers", "second_to_last"))
    return re.compile(
        r"(?:\b(?:les|la|le|l')\s*)?(?:\b(" + count + r")\s+)?"
        r"(?:(" + before_last + r")|\b(" + first + r")\b|\b(" + last + r")\b)"
        r"(?:\s+(?:semaines?|sem))?"
        r"(?:\s+(?:de|d'|du mois de|du mois d'|en)\s*(" + _alt(_months()) + r")\b)?"
    )


@cache
def _month() -> re.Pattern[str]:
    before = lexicon.alternation(lexicon.entry("weeks", "month_before"))
    after = lexicon.alternation(lexicon.entry("weeks", "month_after"))
    return re.compile(
        r"(?<!\d\s)(?<!\d)(?:(" + before + r")[\s']*)?\b(" + _alt(_months()) + r")\b(?!\s*\d)"
        r"(?:\s*(" + after + r"))?"
    )


_RANGE = re.compile(
    r"(\d{1,2})\s*(?:a|au|-|–|jusqu'a|jusqua|jusqu a|to|@)\s*(?:la\s+)?(?:semaine\s+)?(\d{1,2})\b"
)


def week_word() -> re.Pattern[str]:
    return lexicon.pattern("weeks", "week_words")


@cache
def _not_weeks() -> tuple[re.Pattern[str], re.Pattern[str]]:
    after = lexicon.alternation(lexicon.entry("weeks", "not_weeks_after"))
    before = lexicon.alternation(lexicon.entry("weeks", "not_weeks_before"))
    return (
        re.compile(r"\b\d+\s*" + after),
        re.compile(before + r"\s*\d+\b"),
    )


def prepare(text: str) -> str:
    """normalize() with ordinal digits made plain ("3e semaine" → "3 semaine")."""
    text = re.sub(r"\b1(?:ere|re|er)s\b", "premieres", normalize(text))  # "les 3 1eres"
    return re.sub(r"(\d)(?:e|eme|ere|re|er)\b", r"\1", text)


# ---------------------------------------------------------------------------- reading


def _date(year: int, month: str, day: str) -> date | None:
    try:
        return date(year, _month_or_abbreviation()[month], int(day))
    except (ValueError, KeyError):
        return None


def _numbers(fragment: str) -> list[int]:
    found: list[int] = []
    for a, b in _RANGE.findall(fragment):
        lo, hi = int(a), int(b)
        if lo <= hi:
            found.extend(range(lo, hi + 1))
    rest = _RANGE.sub(" ", fragment)
    known = number_words()
    for token in re.findall(r"[a-z0-9]+", rest):
        if token.isdigit():
            found.append(int(token))
        elif token in known and token not in ("un", "une"):
            found.append(known[token])
    return found


def read_mentions(fragment: str, weeks: Sequence[Week], strict: bool) -> list[WeekMention]:
    """Every way the fragment names weeks of the season, in reading order.

    strict: numbers count only after the word "semaine" (a message that may be about anything);
    otherwise the bot has just asked for weeks and a bare "2" or "2-4" is a week.
    """
    if not weeks:
        return []
    valid = [w.number for w in weeks]
    year = weeks[0].starts_on.year
    text = prepare(fragment)
    found: list[WeekMention] = []  # a mention naming no week of the season is left out

    def keep(numbers: Iterable[int]) -> tuple[int, ...]:
        return tuple(sorted(set(numbers) & set(valid)))

    def blank(match: re.Match[str]) -> str:
        return " " * len(match.group(0))

    for match in _date_range().finditer(text):
        d1, m1, d2, m2 = match.groups()
        start, end = _date(year, m1 or m2, d1), _date(year, m2, d2)
        if start and end and start <= end:
            hit = [w.number for w in weeks if w.starts_on <= end and w.ends_on >= start]
            found.append(WeekMention("dates", keep(hit), start=start, end=end))
    text = _date_range().sub(blank, text)
    for match in _single_date().finditer(text):
        when = _date(year, match.group(2), match.group(1))
        if when is None:
            continue
        # "la semaine du 12 juillet" also accepts a weekend day next to the week
        hit = [
            w.number
            for w in weeks
            if (w.starts_on - when).days <= 2 and (when - w.ends_on).days <= 2
        ][:1]
        found.append(WeekMention("date", keep(hit), start=when))
    text = _single_date().sub(blank, text)
    has_week_word = bool(week_word().search(text))
    for match in _ends().finditer(text):
        count_word, before_last, first, last, month = match.groups()
        if strict and not has_week_word:
            continue
        count = 1
        if count_word:
            count = int(count_word) if count_word.isdigit() else number_words()[count_word]
        pool = weeks_of_month(weeks, _months()[month]) if month else valid
        if before_last:
            picked, how = pool[-2:-1], "last"
        elif first:
            picked, how = pool[:count], "first"
        else:
            picked, how = pool[-count:], "last"
        found.append(
            WeekMention(how, keep(picked), month=_months()[month] if month else None, count=count)
        )
    text = _ends().sub(lambda m: m.group(0) if strict and not has_week_word else blank(m), text)
    for match in _month().finditer(text):
        cue_before, name, cue_after = match.groups()
        # a message about anything needs more than "en juillet" ("tout juillet", "juillet au
        # complet", "les semaines de juillet")
        said_whole = (cue_before or "").startswith(("tout", "le mois", "mois")) or cue_after
        if strict and not (said_whole or has_week_word):
            continue
        month = _months()[name]
        found.append(WeekMention("month", keep(weeks_of_month(weeks, month)), month=month))
    text = _month().sub(blank, text)
    every = lexicon.pattern("weeks", "all")
    alone = re.sub(r"\b(?:la|les|le|svp|stp|merci)\b", " ", text).strip(" ,.")
    # "toutes" answers a weeks question only as the whole answer ("pas tout de suite" does not)
    asked_all = not strict and lexicon.pattern("weeks", "all_when_asked").fullmatch(alone)
    if every.search(text) or asked_all:
        found.append(WeekMention("all", tuple(valid)))
        text = every.sub(" ", text)
    if strict and not week_word().search(text):
        return [m for m in found if m.weeks]
    first_word = week_word().search(text)
    if first_word:
        # keep only the part from the first "semaine" on: "camp 9-12 ans semaines 2 a 4"
        before = re.search(r"\d{1,2}\s*$", text[: first_word.start()])  # "la 2 semaine"
        text = text[before.start() if before else first_word.start() :]
    after, before_number = _not_weeks()
    text = before_number.sub(" ", after.sub(" ", text))
    numbers = keep(_numbers(text))
    if numbers:
        found.append(WeekMention("number", numbers))
    return [m for m in found if m.weeks]


def weeks_named(mentions: Iterable[WeekMention]) -> set[int]:
    return {n for m in mentions for n in m.weeks}


def format_numbers(numbers: Iterable[int]) -> list[str]:
    """Week numbers for display, e.g. [2, 3, 4] → ["2", "3", "4"] (joined by the caller)."""
    return [str(n) for n in sorted(numbers)]
