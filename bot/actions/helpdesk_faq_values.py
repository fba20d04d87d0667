"""The variables of the public answers (utter_faq/<sub>), from the backend's facts and catalog.

Every figure goes through babel (bot/actions/formatting.py); the words around them are
utter_fragment_faq_* responses of the domain.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, time
from typing import Any

from babel.dates import format_time, get_day_names

from .formatting import (
    LOCALE,
    calendar_date,
    fragment,
    join_words,
    local_datetime,
    money,
    or_words,
    short_date,
)

Domain = Mapping[str, Any]


def clock_text(value: str) -> str:
    """ "08:30" → "8 h 30", "16:00" → "16 h" (Québec style)."""
    moment = time.fromisoformat(value)
    return format_time(moment, "H 'h'" if moment.minute == 0 else "H 'h' mm", locale=LOCALE)


def hours_text(city: Mapping[str, Any], domain: Domain) -> str:
    """{"1": ["08:30", "16:30"], …, "5": […]} → "du lundi au vendredi, de 8 h 30 à 16 h 30",
    consecutive days with the same hours said once, then the registration-night extension."""
    names = get_day_names("wide", locale=LOCALE)  # babel: 0 = Monday
    days = sorted((int(day), tuple(span)) for day, span in city.get("hours", {}).items())
    runs: list[list[Any]] = []
    for day, span in days:
        if runs and runs[-1][1] == day - 1 and runs[-1][2] == span:
            runs[-1][1] = day
        else:
            runs.append([day, day, span])
    parts = []
    for first, last, (opens, closes) in runs:
        values = {"opens": clock_text(opens), "closes": clock_text(closes)}
        if first == last:
            parts.append(
                fragment(domain, "utter_fragment_faq_hours_day", day=names[first - 1], **values)
            )
        else:
            parts.append(
                fragment(
                    domain,
                    "utter_fragment_faq_hours_days",
                    first=names[first - 1],
                    last=names[last - 1],
                    **values,
                )
            )
    return " ; ".join(parts)


def facts_values(facts: Mapping[str, Any], domain: Domain) -> dict[str, Any]:
    city, urls = facts["city"], facts["urls"]
    season, policies = facts["season"], facts["policies"]
    refunds = policies["refunds"]
    fee = int(refunds.get("fee_cents") or 0)
    deadline = refunds.get("deadline_days")
    return {
        "help_phone": city["phone"],
        "help_hours": hours_text(city, domain),
        "city_name": city["name"],
        "portal_url": urls["portal"],
        "password_reset_url": urls["password_reset"],
        "spam_help_url": urls["spam_help"],
        "profile_help_url": urls["profile_help"],
        "calendar_help_url": urls["calendar_help"],
        "residents_open": local_datetime(season["residents_open_at"]),
        "nonresidents_open": local_datetime(season["nonresidents_open_at"]),
        "releve24_by": calendar_date(season["releve24_by"]),
        "hold_minutes": policies["hold_minutes"],
        "pay_link_minutes": policies["pay_link_minutes"],
        "offer_hours": policies["offer_hours"],
        "min_two_payments": money(int(policies["two_installments_min_cents"])),
        "first_percent": policies["first_installment_percent"],
        "refund_until": (
            fragment(domain, "utter_fragment_faq_refund_deadline", days=deadline)
            if deadline
            else fragment(domain, "utter_fragment_faq_refund_eve")
        ),
        "fee_text": (
            fragment(domain, "utter_fragment_faq_fee", fee=money(fee))
            if fee
            else fragment(domain, "utter_fragment_faq_no_fee")
        ),
        "resident_proofs": or_words(policies["resident_proofs"]),
        "bring": join_words(domain, policies["what_to_bring"]),
        "browsers": or_words(policies["browsers"]),
    }


def _first_session(program: Mapping[str, Any]) -> Mapping[str, Any] | None:
    sessions = [s for g in program.get("groups", []) for s in g.get("sessions", [])]
    return min(sessions, key=lambda s: (s["starts_on"], s["id"])) if sessions else None


def per_week(program: Mapping[str, Any]) -> bool:
    return program.get("category") == "camp_de_jour"


def prices_text(catalog: Mapping[str, Any], domain: Domain) -> str:
    lines: list[str] = []
    options: dict[str, int] = {}
    for program in catalog.get("programs", []):
        session = _first_session(program)
        if session is None:
            continue
        unit = (
            "utter_fragment_faq_unit_week"
            if per_week(program)
            else "utter_fragment_faq_unit_session"
        )
        lines.append(
            fragment(
                domain,
                "utter_fragment_faq_price_line",
                program=program["name"],
                resident=money(int(session["price_resident_cents"])),
                nonresident=money(int(session["price_nonresident_cents"])),
                unit=fragment(domain, unit),
            )
        )
        for option in session.get("options", []):
            options.setdefault(option["code"], int(option["price_cents"]))
    for code, cents in options.items():
        name = fragment(domain, f"utter_fragment_option_{code}")
        lines.append(
            fragment(domain, "utter_fragment_faq_option_line", option=name, price=money(cents))
        )
    return "\n".join(lines)


def ages_text(catalog: Mapping[str, Any], domain: Domain) -> str:
    lines = []
    for program in catalog.get("programs", []):
        spans = sorted({(int(g["min_age"]), int(g["max_age"])) for g in program.get("groups", [])})
        ranges = [
            fragment(domain, "utter_fragment_faq_age_range", low=lo, high=hi) for lo, hi in spans
        ]
        if ranges:
            lines.append(
                fragment(
                    domain,
                    "utter_fragment_faq_ages_line",
                    program=program["name"],
                    ages=join_words(domain, ranges),
                )
            )
    return "\n".join(lines)


def schedules_text(catalog: Mapping[str, Any], domain: Domain) -> str:
    lines = []
    for program in catalog.get("programs", []):
        sessions = [s for g in program.get("groups", []) for s in g.get("sessions", [])]
        if not sessions:
            continue
        meets = list(dict.fromkeys(str(s.get("meets") or "") for s in sessions if s.get("meets")))
        lines.append(
            fragment(
                domain,
                "utter_fragment_faq_schedule_line",
                program=program["name"],
                meets=join_words(domain, meets),
                starts=short_date(min(date.fromisoformat(s["starts_on"][:10]) for s in sessions)),
                ends=short_date(max(date.fromisoformat(s["ends_on"][:10]) for s in sessions)),
            )
        )
    return "\n".join(lines)


def catalog_values(catalog: Mapping[str, Any], domain: Domain) -> dict[str, Any]:
    reference = str(catalog.get("season", {}).get("reference_date") or "")
    return {
        "prices": prices_text(catalog, domain),
        "ages": ages_text(catalog, domain),
        "schedules": schedules_text(catalog, domain),
        "reference_date": calendar_date(reference) if reference else "",
    }
