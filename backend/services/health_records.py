"""Fiches santé: what the family's form shows and saves, and what the animators of the child's
group read (docs/HEALTH.md).

Two readers only: the family, through the signed link (`backend.services.health_links`), and
staff whose role covers the child's group (`roles.may_see_child`), each staff reading audited
(`health_record_read`, no health detail in the entry). The health-insurance number is sealed at
rest (`backend.services.sealing_key`); the family's page never shows it back (only that one is
on file and its last digits), the animators' route opens it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.adapters.clock import Clock, local_date
from backend.db.models import HealthRecord, Line, LineStatus, Person
from backend.db.models import Session as ActivitySession
from backend.domain import health_form
from backend.domain.errors import RegistrationError
from backend.domain.roles import Action, StaffRefusal, may_see_child, require
from backend.services import audit, views
from backend.services.audit import Actor
from backend.services.phones import normalize_phone
from backend.services.sealing_key import SealBroken, open_sealed, seal
from backend.settings import Settings


def is_complete_record(record: HealthRecord | None) -> bool:
    if record is None:
        return False
    return health_form.is_complete(
        record.emergency_contact_name,
        record.emergency_contact_phone,
        (record.may_give_first_aid, record.may_photograph, record.may_leave_alone),
    )


def _insurance(record: HealthRecord, settings: Settings) -> tuple[str, str]:
    """(number, "MM/AAAA"), ("", "") when none is on file or it cannot be opened."""
    if not record.insurance_sealed:
        return "", ""
    try:
        number, _sep, expiry = open_sealed(record.insurance_sealed, settings.health_key).partition(
            "|"
        )
    except SealBroken:
        return "", ""
    return number, expiry


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("oui" if value else "non")


def form_values(person: Person, settings: Settings) -> dict[str, str]:
    """What the family's form is filled with (a first visit: nothing but empty fields)."""
    record = person.health
    if record is None:
        return {}
    number, expiry = _insurance(record, settings)
    return {
        "allergies": record.allergies,
        "epipen": _yes_no(record.epipen) if is_complete_record(record) else "",
        "medication": record.medication,
        "conditions": record.conditions,
        "glasses": "oui" if record.glasses else "",
        "insurance_on_file": number[-4:] if number else "",
        "insurance_expiry": expiry,
        "contact_name": record.emergency_contact_name,
        "contact_relation": record.emergency_contact_relation,
        "contact_phone": record.emergency_contact_phone,
        "second_name": record.second_contact_name,
        "second_phone": record.second_contact_phone,
        "first_aid": _yes_no(record.may_give_first_aid),
        "photos": _yes_no(record.may_photograph),
        "leave_alone": _yes_no(record.may_leave_alone),
    }


def save(
    db: Session,
    person: Person,
    fields: dict[str, str],
    *,
    clock: Clock,
    settings: Settings,
) -> dict[str, str]:
    """Saves the form; returns the problems per field (nothing saved when there is any)."""
    record = person.health
    keeps = bool(record and record.insurance_sealed)
    answers, problems = health_form.read_form(
        fields, today=local_date(clock), normalize_phone=normalize_phone, keeps_insurance=keeps
    )
    if answers is None:
        return problems
    if record is None:
        record = person.health = HealthRecord(person_id=person.id)
    if answers.insurance_number:
        record.insurance_sealed = seal(
            f"{answers.insurance_number}|{answers.insurance_expiry}", settings.health_key
        )
    elif answers.insurance_expiry and record.insurance_sealed:
        number, _old = _insurance(record, settings)
        if number:
            sealed = f"{number}|{answers.insurance_expiry}"
            record.insurance_sealed = seal(sealed, settings.health_key)
    record.allergies = answers.allergies
    record.epipen = answers.epipen
    record.medication = answers.medication
    record.conditions = answers.conditions
    record.glasses = answers.glasses
    record.emergency_contact_name = answers.contact_name
    record.emergency_contact_relation = answers.contact_relation
    record.emergency_contact_phone = answers.contact_phone
    record.second_contact_name = answers.second_name
    record.second_contact_phone = answers.second_phone
    record.may_give_first_aid = answers.first_aid
    record.may_photograph = answers.photos
    record.may_leave_alone = answers.leave_alone
    record.updated_at = clock.now()
    db.flush()
    return {}


def record_dict(record: HealthRecord | None, settings: Settings) -> dict[str, Any] | None:
    """The whole fiche, the number opened: for the animators and the family's own export."""
    if record is None:
        return None
    number, expiry = _insurance(record, settings)
    return {
        "allergies": record.allergies,
        "epipen": record.epipen,
        "medication": record.medication,
        "conditions": record.conditions,
        "glasses": record.glasses,
        "insurance_number": number or None,
        "insurance_expiry": expiry or None,
        "emergency_contact_name": record.emergency_contact_name,
        "emergency_contact_relation": record.emergency_contact_relation,
        "emergency_contact_phone": record.emergency_contact_phone,
        "second_contact_name": record.second_contact_name,
        "second_contact_phone": record.second_contact_phone,
        "may_give_first_aid": record.may_give_first_aid,
        "may_photograph": record.may_photograph,
        "may_leave_alone": record.may_leave_alone,
        "complete": is_complete_record(record),
        "updated_at": views.iso(record.updated_at),
    }


def child_groups(db: Session, person_id: int) -> set[int]:
    """The groups the child is registered in (confirmed lines)."""
    return set(
        db.scalars(
            select(ActivitySession.group_id)
            .join(Line, Line.session_id == ActivitySession.id)
            .where(Line.person_id == person_id, Line.status == LineStatus.CONFIRMED)
        ).all()
    )


def staff_read(
    db: Session, person_id: int, *, actor: Actor, clock: Clock, settings: Settings
) -> dict[str, Any]:
    """A child's fiche for an animator of one of the child's groups; audited. Anyone else, or
    a child outside their groups: `staff_forbidden`, and no audit row."""
    require(actor.role, Action.READ_ROSTER)
    person = db.get(Person, person_id)
    if person is None or person.is_adult:
        raise RegistrationError("not_found")
    if not may_see_child(actor.role, actor.groups, child_groups(db, person_id)):
        raise StaffRefusal("staff_forbidden")
    audit.record(
        db, actor, "health_record_read", target_type="person", target_id=person.id,
        family_id=person.family_id, clock=clock,
        detail={"record_on_file": person.health is not None},
    )
    return {
        "child_id": person.id,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "birth_date": views.iso(person.birth_date),
        "health": record_dict(person.health, settings),
    }
