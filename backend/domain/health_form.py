"""The fiche santé's rules (pure): what the form asks, what a complete answer is, what the
parent is told is wrong with a field, and when a missing fiche calls for a reminder.

What a Québec day camp asks (AQLM/ACQ framework, the cities' guides): allergies and whether the
child carries an auto-injector, medication, health conditions, glasses, the health-insurance
number (optional: a family may bring the card instead), one emergency contact (a second one
optional) and three authorisations (first aid, photos, leaving alone at the end of the day).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

MAX_TEXT = 1000
MAX_NAME = 120
MAX_RELATION = 60

# Field problems, each with its sentence in the page (backend.api.health_page).
REQUIRED = "required"
CHOOSE = "choose"
PHONE = "phone"
INSURANCE = "insurance"
EXPIRY = "expiry"
EXPIRY_PAST = "expiry_past"
EXPIRY_NEEDED = "expiry_needed"
TOO_LONG = "too_long"
PAIR = "pair"

YES_NO = ("oui", "non")
AUTHORISATIONS = ("first_aid", "photos", "leave_alone")

_INSURANCE = re.compile(r"^[A-Z]{4}\d{8}$")
_EXPIRY = re.compile(r"^(\d{1,2})\s*/\s*(\d{4})$")


@dataclass(frozen=True)
class HealthAnswers:
    allergies: str
    epipen: bool
    medication: str
    conditions: str
    glasses: bool
    insurance_number: str  # "" when not given
    insurance_expiry: str  # "MM/AAAA", "" when not given
    contact_name: str
    contact_relation: str
    contact_phone: str  # E.164
    second_name: str
    second_phone: str  # E.164 or ""
    first_aid: bool
    photos: bool
    leave_alone: bool


def _text(fields: Mapping[str, str], name: str) -> str:
    return " ".join(str(fields.get(name, "")).split()) if name.endswith("name") else str(
        fields.get(name, "")
    ).strip()


def read_insurance(raw: str) -> str | None:
    """ "trel 1805 1412" -> "TREL18051412"; None when it is not 4 letters and 8 digits."""
    compact = re.sub(r"[\s-]+", "", raw).upper()
    return compact if _INSURANCE.match(compact) else None


def read_expiry(raw: str, today: date) -> tuple[str | None, str | None]:
    """(normalised "MM/AAAA", problem)."""
    found = _EXPIRY.match(raw.strip())
    if not found or not 1 <= int(found.group(1)) <= 12:
        return None, EXPIRY
    month, year = int(found.group(1)), int(found.group(2))
    if (year, month) < (today.year, today.month):
        return None, EXPIRY_PAST
    return f"{month:02d}/{year}", None


def read_form(
    fields: Mapping[str, str],
    *,
    today: date,
    normalize_phone: Callable[[str], str | None],
    keeps_insurance: bool = False,
) -> tuple[HealthAnswers | None, dict[str, str]]:
    """The answers, or the problem of each wrong field (field name -> problem code).

    `keeps_insurance`: a number is already on file and the parent left the field empty to keep
    it (the page never shows it back)."""
    problems: dict[str, str] = {}
    texts = {n: _text(fields, n) for n in ("allergies", "medication", "conditions")}
    for name, value in texts.items():
        if len(value) > MAX_TEXT:
            problems[name] = TOO_LONG
    choices: dict[str, bool] = {}
    for name in ("epipen", *AUTHORISATIONS):
        value = str(fields.get(name, ""))
        if value not in YES_NO:
            problems[name] = CHOOSE
        else:
            choices[name] = value == "oui"

    number = _text(fields, "insurance_number")
    expiry_raw = _text(fields, "insurance_expiry")
    insurance = ""
    expiry = ""
    if number:
        read = read_insurance(number)
        if read is None:
            problems["insurance_number"] = INSURANCE
        else:
            insurance = read
    if expiry_raw:
        read_exp, problem = read_expiry(expiry_raw, today)
        if problem:
            problems["insurance_expiry"] = problem
        else:
            expiry = read_exp or ""
    elif number:
        problems["insurance_expiry"] = EXPIRY_NEEDED
    if expiry_raw and not number and not keeps_insurance:
        problems["insurance_number"] = REQUIRED

    contact_name = _text(fields, "contact_name")
    contact_relation = _text(fields, "contact_relation")
    contact_phone_raw = _text(fields, "contact_phone")
    if not contact_name:
        problems["contact_name"] = REQUIRED
    elif len(contact_name) > MAX_NAME:
        problems["contact_name"] = TOO_LONG
    if len(contact_relation) > MAX_RELATION:
        problems["contact_relation"] = TOO_LONG
    contact_phone = normalize_phone(contact_phone_raw) if contact_phone_raw else None
    if not contact_phone_raw:
        problems["contact_phone"] = REQUIRED
    elif contact_phone is None:
        problems["contact_phone"] = PHONE

    second_name = _text(fields, "second_name")
    second_phone_raw = _text(fields, "second_phone")
    second_phone = normalize_phone(second_phone_raw) if second_phone_raw else ""
    if len(second_name) > MAX_NAME:
        problems["second_name"] = TOO_LONG
    if second_phone_raw and second_phone is None:
        problems["second_phone"] = PHONE
    elif second_name and not second_phone_raw:
        problems["second_phone"] = PAIR
    elif second_phone_raw and not second_name:
        problems["second_name"] = PAIR

    if problems:
        return None, problems
    return (
        HealthAnswers(
            allergies=texts["allergies"],
            epipen=choices["epipen"],
            medication=texts["medication"],
            conditions=texts["conditions"],
            glasses=str(fields.get("glasses", "")) == "oui",
            insurance_number=insurance,
            insurance_expiry=expiry,
            contact_name=contact_name,
            contact_relation=contact_relation,
            contact_phone=contact_phone or "",
            second_name=second_name,
            second_phone=second_phone or "",
            first_aid=choices["first_aid"],
            photos=choices["photos"],
            leave_alone=choices["leave_alone"],
        ),
        {},
    )


def is_complete(
    contact_name: str,
    contact_phone: str,
    authorisations: tuple[bool | None, bool | None, bool | None],
) -> bool:
    """A fiche the camp can work with: someone to call, and every authorisation answered."""
    return bool(contact_name and contact_phone) and all(a is not None for a in authorisations)


def reminder_due(starts_on: date, today: date, days_before: int) -> bool:
    """A missing fiche is reminded once the week is at most `days_before` days away and has
    not started yet."""
    return today < starts_on and (starts_on - today).days <= days_before
