"""Loi 25 requests on a family's file: export everything we hold, or delete the personal data.

Both are coordinator actions, audited in their own transaction (docs/STAFF.md).

Deletion keeps what accounting requires (orders, installments, refunds, the registrations that
were paid) but nothing that says who they were about: names become « Supprimé », birth dates
1900-01-01, contact details are emptied, the client number becomes `supprime-<id>`, and the
saved card token goes. Health records, the messages we sent, one-time-code challenges and
family sessions are deleted. Children with no line at all are deleted outright.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from backend.adapters.clock import Clock
from backend.adapters.gateway import PaymentGateway
from backend.db.access import FamilySession, IdentityChallenge
from backend.db.helpdesk import CallbackRequest, ContactCheck
from backend.db.models import (
    AccountStatus,
    Cart,
    Family,
    HealthReminder,
    Line,
    LineStatus,
    Order,
    Refund,
)
from backend.db.notifications import Notification
from backend.domain.errors import RegistrationError
from backend.domain.roles import Action, StaffRefusal, require
from backend.domain.states import IN_CART, PLACE_HOLDING
from backend.services import audit, health_records, staff, views, waiting_room
from backend.services.audit import Actor
from backend.settings import Settings

DELETED_NAME = "Supprimé"
DELETED_BIRTH_DATE = date(1900, 1, 1)


def _family(db: Session, client_number: str) -> Family:
    family = db.scalar(select(Family).where(Family.client_number == client_number))
    if family is None:
        raise RegistrationError("not_found")
    return family


def _lines(db: Session, family_id: int) -> list[Line]:
    return list(
        db.scalars(
            select(Line).join(Cart, Cart.id == Line.cart_id).where(Cart.family_id == family_id)
            .order_by(Line.id)
        ).all()
    )


def _message(n: Notification) -> dict[str, Any]:
    # A one-time code is a credential, not the family's data: its text is not exported.
    return {
        "id": n.id,
        "kind": n.kind,
        "channel": n.channel.value,
        "recipient": n.recipient,
        "subject": n.subject,
        "body": None if n.kind == "otp" else n.body,
        "status": n.status.value,
        "created_at": views.iso(n.created_at),
        "sent_at": views.iso(n.sent_at),
    }


def export_family(
    db: Session,
    client_number: str,
    *,
    clock: Clock,
    actor: Actor,
    settings: Settings,
) -> dict[str, Any]:
    """Everything held about the family: file, members (health records included: the data
    is theirs), lines, orders with installments and refunds, messages sent."""
    require(actor.role, Action.EXPORT)
    family = _family(db, client_number)
    orders = db.scalars(select(Order).where(Order.family_id == family.id).order_by(Order.id)).all()
    refunds = db.scalars(
        select(Refund).where(Refund.order_id.in_([o.id for o in orders])).order_by(Refund.id)
    ).all() if orders else []
    messages = db.scalars(
        select(Notification).where(Notification.family_id == family.id).order_by(Notification.id)
    ).all()
    members = [
        {
            "id": p.id,
            "first_name": p.first_name,
            "last_name": p.last_name,
            "birth_date": views.iso(p.birth_date),
            "is_adult": p.is_adult,
            "is_payer": p.is_payer,
            "tshirt_size": p.tshirt_size,
            "health": health_records.record_dict(p.health, settings),
        }
        for p in family.members
    ]
    lines = views.line_dicts(db, _lines(db, family.id))
    data: dict[str, Any] = {
        "exported_at": views.iso(clock.now()),
        "family": {
            "id": family.id,
            "client_number": family.client_number,
            "phone": family.phone,
            "phone_can_text": family.phone_can_text,
            "email": family.email,
            "address": family.address,
            "resident": family.resident,
            "status": family.status.value,
            "created_at": views.iso(family.created_at),
        },
        "members": members,
        "lines": lines,
        "orders": [views.order_dict(db, o) for o in orders],
        "refunds": [
            {
                "id": r.id,
                "order_id": r.order_id,
                "line_id": r.line_id,
                "amount_cents": r.amount_cents,
                "reason": r.reason,
                "created_at": views.iso(r.created_at),
            }
            for r in refunds
        ],
        "messages": [_message(n) for n in messages],
        "waiting_room": waiting_room.family_entries(db, family.id),
    }
    audit.record(
        db, actor, "family_exported", target_type="family", target_id=family.id,
        family_id=family.id, clock=clock,
        detail={"members": len(members), "lines": len(lines),
                "orders": len(orders), "messages": len(messages)},
    )
    return data


def delete_family(
    db: Session,
    client_number: str,
    *,
    force: bool = False,
    clock: Clock,
    settings: Settings,
    gateway: PaymentGateway,
    actor: Actor,
) -> dict[str, Any]:
    """Deletes the family's personal data (module docstring). Refused with
    family_has_active_lines while a line holds a place (held, offered, confirmed) unless
    `force`: then lines still in a cart are cancelled (their places go to the waitlist, nothing
    was paid) and paid registrations are kept, anonymised."""
    require(actor.role, Action.DELETE)
    family = _family(db, client_number)
    lines = _lines(db, family.id)
    holding = [line.id for line in lines if line.status in PLACE_HOLDING]
    if holding and not force:
        raise StaffRefusal("family_has_active_lines", lines=len(holding))
    cancelled = []
    for line in lines:
        if line.status in IN_CART:
            staff.cancel_line(
                db, line.id, clock=clock, settings=settings, gateway=gateway, actor=actor
            )
            cancelled.append(line.id)
    kept = {line.person_id for line in lines}
    db.execute(
        delete(HealthReminder).where(HealthReminder.person_id.in_([p.id for p in family.members]))
    )
    removed_people = 0
    for person in list(family.members):
        if person.id in kept:
            person.first_name = DELETED_NAME
            person.last_name = ""
            person.birth_date = DELETED_BIRTH_DATE
            person.tshirt_size = None
            person.health = None
        else:
            family.members.remove(person)
            removed_people += 1
    for line in lines:
        line.tshirt_size = None
    db.flush()
    messages = db.execute(delete(Notification).where(Notification.family_id == family.id))
    db.execute(delete(IdentityChallenge).where(IdentityChallenge.family_id == family.id))
    db.execute(delete(ContactCheck).where(ContactCheck.family_id == family.id))
    db.execute(delete(CallbackRequest).where(CallbackRequest.family_id == family.id))
    db.execute(delete(FamilySession).where(FamilySession.family_id == family.id))
    for order in db.scalars(select(Order).where(Order.family_id == family.id)).all():
        order.card_token = None
        order.card_last4 = None
    family.client_number = f"supprime-{family.id}"
    family.phone = ""
    family.phone_can_text = False
    family.email = None
    family.address = ""
    family.status = AccountStatus.LOCKED
    result = {
        "family_id": family.id,
        "people_deleted": removed_people,
        "people_anonymised": len(kept),
        "lines_cancelled": cancelled,
        "registrations_kept": [
            line.id for line in lines if line.status == LineStatus.CONFIRMED
        ],
        "messages_deleted": int(getattr(messages, "rowcount", 0) or 0),
    }
    audit.record(
        db, actor, "family_deleted", target_type="family", target_id=family.id,
        family_id=family.id, clock=clock, detail={"forced": force, **result},
    )
    db.flush()
    return result
