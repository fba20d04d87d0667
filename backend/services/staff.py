"""What city staff may do (docs/API.md, "Staff"; roles in docs/STAFF.md).

Every function takes the `actor` and checks its role itself (`backend.domain.roles`), so the
HTTP routes and the CLI apply the same rule; an action on money or personal data writes its
audit row (`backend.services.audit`) in the same transaction. In-process callers that act on
nobody's behalf (tests setting up a scenario) are recorded as `INTERNAL`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend.adapters.clock import Clock
from backend.adapters.gateway import PaymentGateway
from backend.db.models import (
    AccountStatus,
    CapacityPool,
    Family,
    Group,
    Line,
    LineStatus,
    Order,
    PaymentMode,
    Person,
    Season,
)
from backend.db.models import Session as ActivitySession
from backend.domain.errors import RegistrationError
from backend.domain.roles import Action, StaffRefusal, may_read_roster, require
from backend.services import (
    audit,
    auth,
    cancellation,
    capacity,
    outbox,
    season_billing,
    views,
    waitlist,
)
from backend.services.audit import Actor
from backend.services.cart import cart_view
from backend.services.family import family_dict
from backend.settings import Settings

INTERNAL = Actor(staff_id=None, username="interne", role="coordinator", via="internal")


def approve_family(
    db: Session, client_number: str, *, clock: Clock, actor: Actor = INTERNAL
) -> dict[str, Any]:
    """Pending -> approved. Returns `<Family>`. Raises not_found."""
    require(actor.role, Action.APPROVE)
    family = db.scalar(select(Family).where(Family.client_number == client_number))
    if family is None:
        raise RegistrationError("not_found")
    if family.status != AccountStatus.APPROVED:
        was = family.status.value
        family.status = AccountStatus.APPROVED
        outbox.enqueue(db, clock=clock, family=family, kind="account_approved", params={})
        audit.record(
            db, actor, "family_approved", target_type="family", target_id=family.id,
            family_id=family.id, clock=clock, detail={"from": was},
        )
    db.flush()
    return family_dict(db, family)


def revoke_family_sessions(
    db: Session, client_number: str, *, clock: Clock, actor: Actor = INTERNAL
) -> dict[str, int]:
    """Sign a family out of every open chat session (a parent reports someone else, or a session
    left open on a shared computer). Raises not_found."""
    require(actor.role, Action.READ_FAMILY)
    result = auth.revoke_family_sessions(db, client_number)
    family_id = db.scalar(select(Family.id).where(Family.client_number == client_number))
    audit.record(
        db, actor, "family_sessions_revoked", target_type="family", target_id=family_id,
        family_id=family_id, clock=clock, detail=result,
    )
    return result


def _session_counts(db: Session, session: ActivitySession) -> dict[str, Any]:
    cap, taken = capacity.counts(db, [session.pool_id])[session.pool_id]
    return {
        "id": session.id,
        "capacity": cap,
        "taken": taken,
        "available": cap - taken,
        "waitlist_length": waitlist.waitlist_length(db, session.id),
    }


def set_capacity(
    db: Session,
    session_id: int,
    capacity_: int,
    *,
    clock: Clock,
    settings: Settings,
    gateway: PaymentGateway,
    actor: Actor = INTERNAL,
) -> dict[str, Any]:
    """New capacity (not below the places taken: invalid_request); raised places go to the
    waitlist. Returns `{"id", "capacity", "taken", "available", "waitlist_length"}`."""
    require(actor.role, Action.CAPACITY)
    session = db.get(ActivitySession, session_id)
    if session is None:
        raise RegistrationError("not_found")
    if capacity_ < 0:
        raise RegistrationError("invalid_request", fields={"capacity": "min_0"})
    capacity.lock_sessions(db, [session.id])
    before = capacity.counts(db, [session.pool_id])[session.pool_id][0]
    # Conditional, like every capacity change: a concurrent hold cannot slip under the new cap.
    result = db.execute(
        update(CapacityPool)
        .where(CapacityPool.id == session.pool_id, CapacityPool.taken <= capacity_)
        .values(capacity=capacity_)
        .execution_options(synchronize_session=False)
    )
    if capacity._rowcount(result) != 1:
        taken = capacity.counts(db, [session.pool_id])[session.pool_id][1]
        raise RegistrationError("invalid_request", fields={"capacity": f"min_{taken}"})
    waitlist.offer_free_places(db, session.id, clock=clock, settings=settings, gateway=gateway)
    audit.record(
        db, actor, "capacity_changed", target_type="session", target_id=session.id,
        clock=clock, detail={"from": before, "to": capacity_},
    )
    db.flush()
    return _session_counts(db, session)


def cancel_line(
    db: Session,
    line_id: int,
    *,
    clock: Clock,
    settings: Settings,
    gateway: PaymentGateway,
    actor: Actor = INTERNAL,
) -> dict[str, Any]:
    """Cancel any line (`backend.services.cancellation`, the parents' use case too); its
    place goes to the waitlist. A registration that was paid (or accepted in a deferred
    season) is settled by the refund policy: what was paid for it is refunded through the
    gateway less what the policy keeps, what is still due for it is removed (an installment
    left at 0 $ is cancelled), and the payer is told ("registration_cancelled").
    Returns `<Line>` plus `refunded_cents` and `cancelled_installments`. Raises not_found,
    staff_forbidden (a confirmed registration needs a coordinator)."""
    require(actor.role, Action.CANCEL_UNPAID)
    line = db.get(Line, line_id)
    if line is None:
        raise RegistrationError("not_found")
    capacity.lock_sessions(db, [line.session_id])
    was = line.status
    if was == LineStatus.CONFIRMED:
        require(actor.role, Action.CANCEL_PAID)
    if was in (LineStatus.CANCELLED, LineStatus.RELEASED):
        return views.line_dict(db, line) | {"refunded_cents": 0, "cancelled_installments": []}
    settlement = cancellation.cancel_line(
        db, line, was, clock=clock, settings=settings, gateway=gateway
    )
    audit.record(
        db, actor, "line_cancelled", target_type="line", target_id=line.id,
        family_id=line.cart.family_id, clock=clock,
        detail={
            "from": was.value,
            "order_id": line.order_id,
            "refunded_cents": settlement.refunded_cents,
            "reduced_cents": settlement.reduced_cents,
            "cancelled_installments": [i["seq"] for i in settlement.cancelled_installments],
        },
    )
    db.flush()
    return views.line_dict(db, line) | {
        "refunded_cents": settlement.refunded_cents,
        "cancelled_installments": settlement.cancelled_installments,
    }


def set_payment_mode(
    db: Session,
    season_id: int,
    mode: str,
    *,
    clock: Clock,
    settings: Settings,
    gateway: PaymentGateway,
    actor: Actor = INTERNAL,
) -> dict[str, Any]:
    """normal|deferred. Deferred -> normal plans the season's deferred orders again from today
    and sends each a payment link (valid `offer_hours`), `backend.services.season_billing`."""
    require(actor.role, Action.PAYMENT_MODE)
    season = db.get(Season, season_id)
    if season is None:
        raise RegistrationError("not_found")
    try:
        new = PaymentMode(mode)
    except ValueError as exc:
        modes = ["normal", "deferred"]
        raise RegistrationError("invalid_request", fields={"payment_mode": modes}) from exc
    links = 0
    if season.payment_mode == PaymentMode.DEFERRED and new == PaymentMode.NORMAL:
        links = season_billing.open_payment(db, season, clock=clock, settings=settings)
    was = season.payment_mode.value
    season.payment_mode = new
    audit.record(
        db, actor, "payment_mode_changed", target_type="season", target_id=season.id,
        clock=clock, detail={"from": was, "to": new.value, "payment_links_sent": links},
    )
    db.flush()
    return {"id": season.id, "payment_mode": season.payment_mode.value, "payment_links_sent": links}


def family_file(
    db: Session, client_number: str, *, clock: Clock, settings: Settings, actor: Actor = INTERNAL
) -> dict[str, Any]:
    """What the help desk sees: the file (masked contacts, children, no health details), the
    cart and the orders with their installments. A read: not audited."""
    require(actor.role, Action.READ_FAMILY)
    family = db.scalar(select(Family).where(Family.client_number == client_number))
    if family is None:
        raise RegistrationError("not_found")
    orders = db.scalars(select(Order).where(Order.family_id == family.id).order_by(Order.id)).all()
    return {
        "family": family_dict(db, family),
        "cart": cart_view(db, family.id, clock=clock, settings=settings),
        "orders": [views.order_dict(db, order) for order in orders],
    }


def group_roster(db: Session, group_id: int, *, actor: Actor) -> dict[str, Any]:
    """The children registered (confirmed) in a group's sessions, with their health records:
    only for an animator assigned to that group (`roles.may_read_roster`)."""
    require(actor.role, Action.READ_ROSTER)
    group = db.get(Group, group_id)
    if group is None:
        raise RegistrationError("not_found")
    if not may_read_roster(actor.role, actor.groups, group_id):
        raise StaffRefusal("staff_forbidden")
    rows = db.execute(
        select(Person, ActivitySession.number)
        .join(Line, Line.person_id == Person.id)
        .join(ActivitySession, ActivitySession.id == Line.session_id)
        .where(ActivitySession.group_id == group_id, Line.status == LineStatus.CONFIRMED)
        .order_by(Person.last_name, Person.first_name, Person.id, ActivitySession.number)
    ).all()
    children: dict[int, dict[str, Any]] = {}
    for person, week in rows:
        child = children.get(person.id)
        if child is None:
            health = person.health
            child = children[person.id] = {
                "id": person.id,
                "first_name": person.first_name,
                "last_name": person.last_name,
                "birth_date": views.iso(person.birth_date),
                "sessions": [],
                "health": None if health is None else {
                    "allergies": health.allergies,
                    "medication": health.medication,
                    "glasses": health.glasses,
                    "emergency_contact_name": health.emergency_contact_name,
                    "emergency_contact_phone": health.emergency_contact_phone,
                },
            }
        child["sessions"].append(week)
    return {"group_id": group.id, "label": group.label, "children": list(children.values())}
