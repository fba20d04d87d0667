"""The family file as the bot sees it (docs/API.md, "Family")."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from backend.db.models import Family
from backend.domain.eligibility import age_on, reference_date
from backend.domain.errors import RegistrationError
from backend.services import queries, views


def mask_phone(phone: str) -> str:
    digits = [c for c in phone if c.isdigit()]
    return "***-***-" + "".join(digits[-4:])


def mask_email(email: str | None) -> str | None:
    if not email or "@" not in email:
        return None
    local, domain = email.split("@", 1)
    return f"{local[:1]}***@{domain}"


def family_view(db: Session, family_id: int) -> dict[str, Any]:
    """`<Family>`: client number, residency, status, payer, masked phone/courriel, children with
    their age at the current season's reference date. Raises not_found."""
    family = db.get(Family, family_id)
    if family is None:
        raise RegistrationError("not_found")
    return family_dict(db, family)


def family_dict(db: Session, family: Family) -> dict[str, Any]:
    try:
        ref = reference_date(queries.current_season(db).year)
    except RegistrationError:
        ref = None
    payer = next((p for p in family.members if p.is_payer), None) or next(
        (p for p in family.members if p.is_adult), None
    )
    return {
        "id": family.id,
        "client_number": family.client_number,
        "resident": family.resident,
        "status": family.status.value,
        "payer_name": f"{payer.first_name} {payer.last_name}" if payer else None,
        "phone_masked": mask_phone(family.phone),
        "email_masked": mask_email(family.email),
        "children": [
            {
                "id": p.id,
                "first_name": p.first_name,
                "last_name": p.last_name,
                "birth_date": views.iso(p.birth_date),
                "age_at_reference": age_on(p.birth_date, ref) if ref else None,
                "tshirt_size": p.tshirt_size,
                "has_health_record": p.health is not None,
            }
            for p in family.members
            if not p.is_adult
        ],
    }
