"""How every message is put together: the city's signature, dates, amounts and lines.

The sentences of each kind of message are in `backend.services.messages`; this module holds what
they share, so a change of house style (a signature, the way a period is written) is made once.
An SMS uses plain spaces (a no-break space would make it UCS-2) and puts a link alone on its line;
a courriel has a subject, a greeting and the signature.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from babel.dates import format_date as format_date_pattern

from backend.adapters.clock import to_local
from backend.i18n import (
    DEFAULT_LOCALE,
    _,
    format_date,
    format_day_month,
    format_money,
    format_time,
    option_label,
    plain,
)


@dataclass(frozen=True)
class Branding:
    city_name: str = "Ville de Val-Fleuri"
    city_phone: str = "418 555-0199"
    city_hours: str = "du lundi au vendredi, de 8 h 30 à 16 h 30"
    otp_minutes: int = 10


_current = Branding()


def configure(branding: Branding) -> None:
    """Set the city's name and phone line used in messages (called by `create_app`)."""
    global _current
    _current = branding


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def as_utc(instant: datetime) -> datetime:
    """An instant as naive UTC (what the database stores), whether it came with an offset or not."""
    if instant.tzinfo is not None:
        return instant.astimezone(UTC).replace(tzinfo=None)
    return instant


def as_instant(value: object) -> datetime:
    """A naive-UTC instant (datetime or ISO text) as the city's local time."""
    instant = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return to_local(as_utc(instant))


def when(value: object) -> str:
    """ "mardi 22 juin 2027 à 19 h" for an instant."""
    local = as_instant(value)
    return _("%(date)s à %(time)s") % {
        "date": format_date(local.date()),
        "time": format_time(local),
    }


def cents(params: Mapping[str, object], key: str) -> int:
    value = params.get(key, 0)
    return int(value) if isinstance(value, int | float | str) else 0


def period(starts_on: object, ends_on: object) -> str:
    return _("du %(start)s au %(end)s") % {
        "start": format_day_month(as_date(starts_on)),
        "end": format_day_month(as_date(ends_on)),
    }


def line_text(line: Mapping[str, Any]) -> str:
    parts = [str(line.get("child", "")), str(line.get("program", ""))]
    where = ", ".join(str(line[k]) for k in ("group", "site") if line.get(k))
    if where:
        parts.append(where)
    text = " – ".join(p for p in parts if p)
    if line.get("starts_on") and line.get("ends_on"):
        text += " (" + period(line["starts_on"], line["ends_on"]) + ")"
    options = line.get("options") or []
    if options:
        labels = [
            option_label(str(o.get("code") if isinstance(o, Mapping) else o)) for o in options
        ]
        text += " + " + ", ".join(labels)
    if isinstance(line.get("price_cents"), int):
        text += " : " + format_money(int(line["price_cents"]))
    return text


def day_month_year(value: object) -> str:
    """ "2027-05-21" -> "21 mai 2027" (a date a parent reads in a sentence about money)."""
    return format_date_pattern(as_date(value), "d MMMM y", locale=DEFAULT_LOCALE)


def second_installment(value: object) -> dict[str, str] | None:
    """Amount and date of the second installment, as the parent will see them charged."""
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) < 2:
        return None
    second = value[1]
    if not isinstance(second, Mapping):
        return None
    return {
        "rest": format_money(int(second["amount_cents"])),
        "due_on": format_day_month(as_date(second["due_on"])),
    }


def greeting() -> str:
    return _("Bonjour,")


def signature() -> str:
    return _("Le service des loisirs, %(city)s\nQuestions : %(phone)s, %(hours)s.") % {
        "city": _current.city_name,
        "phone": _current.city_phone,
        "hours": _current.city_hours,
    }


def email(subject: str, *paragraphs: str) -> Rendered:
    body = "\n\n".join([greeting(), *[p for p in paragraphs if p], signature()])
    return Rendered(subject=subject, body=body + "\n")


def sms(*parts: str) -> Rendered:
    return Rendered(subject="", body=plain("\n".join(p for p in parts if p)))


def due_text(due: Sequence[Mapping[str, Any]]) -> str:
    return "\n".join(
        _("Versement de %(amount)s prélevé le %(date)s.")
        % {
            "amount": format_money(int(d["amount_cents"])),
            "date": format_date(as_date(d["due_on"])),
        }
        for d in due
    )


def children(lines: Sequence[Mapping[str, Any]]) -> str:
    names: list[str] = []
    for line in lines:
        name = str(line.get("child", ""))
        if name and name not in names:
            names.append(name)
    return _(" et ").join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else "".join(names)


def branding() -> Branding:
    """The city's name, phone line and hours as configured at start."""
    return _current
