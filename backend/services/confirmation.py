"""What the confirmation of a payment tells the family: the lines it confirmed, what was paid
today and what is still due and when (charged on the saved card, or paid by a link), the
family's lines still on a waitlist with their rank, and whether a courriel follows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.db.models import (
    Family,
    Installment,
    InstallmentStatus,
    Line,
    LineStatus,
    Order,
    Person,
)
from backend.services import queries, views


def waitlisted(db: Session, family: Family) -> list[dict[str, Any]]:
    """The family's lines still waiting, each with its rank (1 = next offered)."""
    lines = list(
        db.scalars(
            select(Line)
            .join(Person, Person.id == Line.person_id)
            .where(Person.family_id == family.id, Line.status == LineStatus.WAITLISTED)
            .order_by(Line.id)
        )
    )
    ranks = queries.waitlist_positions(db, lines)
    return [views.message_line(db, line) | {"rank": ranks.get(line.id)} for line in lines]


def params(
    db: Session, order: Order, family: Family, confirmed: Sequence[Line], paid_now: Installment
) -> dict[str, Any]:
    paid = sum(i.amount_cents for i in order.installments if i.status == InstallmentStatus.PAID)
    due = [
        {"seq": i.seq, "amount_cents": i.amount_cents, "due_on": views.iso(i.due_on)}
        for i in order.installments
        if i.status in (InstallmentStatus.SCHEDULED, InstallmentStatus.FAILED)
    ]
    return {
        "order_id": order.id,
        "lines": [views.message_line(db, line) for line in confirmed],
        "paid_now_cents": paid_now.amount_cents,
        "paid_cents": paid,
        "total_cents": order.total_cents,
        "due": due,
        "card_last4": order.card_last4,
        # The provider keeps the card's digits; a payment method on file is what charges later.
        "card_saved": bool(order.card_token),
        "waitlisted": waitlisted(db, family),
        "has_email": bool(family.email),
        "health_record_reminder": True,
    }
