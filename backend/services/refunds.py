"""Settling money when a line leaves an order it was billed in (staff cancel a paid
registration, or a late payment cannot confirm it): refunds recorded in the ledger (and sent to
the provider once committed), what is still due reduced or cancelled.

The rule itself is pure (`backend.domain.refunds`); this module applies it to the allocation
recorded at capture (`Allocation` rows) and records every refund in the `refund` table (the
order's `refunded_cents` comes from it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.adapters.clock import Clock
from backend.db.models import (
    Allocation,
    Installment,
    InstallmentStatus,
    Line,
    Order,
    OrderStatus,
    Refund,
    RefundStatus,
)
from backend.domain import refunds as rule
from backend.domain.states import PLACE_HOLDING, check_installment_transition
from backend.services import orders, views
from backend.settings import Settings

# Orders whose lines are registrations the family has paid for (or will, deferred season).
SETTLED = (OrderStatus.PAID, OrderStatus.PARTIALLY_PAID, OrderStatus.DEFERRED)


@dataclass
class Settlement:
    refunded_cents: int = 0
    reduced_cents: int = 0
    kept_cents: int = 0
    cancelled_installments: list[dict[str, Any]] = field(default_factory=list)
    remaining_due: list[dict[str, Any]] = field(default_factory=list)


# Installments whose charge paid for lines; and those still to come.
CAPTURED = (InstallmentStatus.PAID, InstallmentStatus.REFUNDED)
UPCOMING = (InstallmentStatus.SCHEDULED, InstallmentStatus.FAILED)


def refunded_from_charge(db: Session, installment: Installment) -> int:
    """What went back from the installment's own charge (not from a duplicate's)."""
    return int(
        db.scalar(
            select(func.coalesce(func.sum(Refund.amount_cents), 0)).where(
                Refund.installment_id == installment.id,
                Refund.charge_id == installment.charge_id,
            )
        )
        or 0
    )


def allocated(db: Session, line_id: int) -> dict[int, int]:
    """Installment id -> what its capture paid for the line."""
    rows = db.execute(
        select(Allocation.installment_id, Allocation.amount_cents).where(
            Allocation.line_id == line_id
        )
    ).all()
    return {int(inst_id): int(amount) for inst_id, amount in rows}


def refunded_to_line(db: Session, line_id: int) -> dict[int, int]:
    """Installment id -> what was given back to the line from that installment's charge."""
    rows = db.execute(
        select(Refund.installment_id, func.sum(Refund.amount_cents))
        .where(Refund.line_id == line_id, Refund.installment_id.is_not(None))
        .group_by(Refund.installment_id)
    ).all()
    return {int(inst_id): int(amount or 0) for inst_id, amount in rows if inst_id is not None}


def refund_charge(
    db: Session,
    *,
    order: Order,
    installment: Installment | None,
    line_id: int | None,
    charge_id: str,
    amount_cents: int,
    reason: str,
    idempotency_key: str,
    clock: Clock,
) -> Refund:
    """Record a refund of part of a charge, pending: the provider is asked once this
    transaction is committed (`backend.services.refund_sender`), never inside it."""
    now = clock.now()
    row = Refund(
        order_id=order.id,
        installment_id=installment.id if installment is not None else None,
        line_id=line_id,
        charge_id=charge_id,
        amount_cents=amount_cents,
        reason=reason,
        status=RefundStatus.PENDING,
        idempotency_key=idempotency_key,
        tries=0,
        created_at=now,
        updated_at=now,
    )
    db.add(row)
    db.flush()
    return row


def refund_policy(settings: Settings) -> rule.RefundPolicy:
    return rule.RefundPolicy(
        fee_cents=settings.cancellation_fee_cents, deadline_days=settings.refund_deadline_days
    )


def days_before_start(line: Line, clock: Clock) -> int:
    """Days from today to the line's first day (negative once it started)."""
    return (line.session.starts_on - clock.now().date()).days


@dataclass(frozen=True)
class LinePlan:
    """What `line` leaving `order` would give back, installment by installment."""

    plan: rule.CancellationPlan
    captured: list[Installment]
    upcoming: list[Installment]


def plan_leaving_line(
    db: Session,
    order: Order,
    line: Line,
    *,
    policy: rule.RefundPolicy,
    days_before_start: int | None,
) -> LinePlan:
    """The refund rule applied to what was recorded for `line`; changes nothing."""
    paid_for = allocated(db, line.id)
    given_back = refunded_to_line(db, line.id)
    captured = [i for i in order.installments if i.status in CAPTURED and i.id in paid_for]
    upcoming = [i for i in order.installments if i.status in UPCOMING]
    plan = rule.cancellation_plan(
        views.line_price(line),
        [rule.Capture(i.id, paid_for[i.id], given_back.get(i.id, 0)) for i in captured],
        [rule.Upcoming(i.id, i.amount_cents) for i in upcoming],
        policy,
        days_before_start,
    )
    return LinePlan(plan, captured, upcoming)


def settle_leaving_line(
    db: Session,
    order: Order,
    line: Line,
    *,
    reason: str,
    clock: Clock,
    settings: Settings,
    policy: rule.RefundPolicy = rule.FULL_REFUND,
) -> Settlement:
    """`line` no longer holds its place: give back what was paid for it (its allocation, less
    what `policy` keeps) and take what it still owes out of the installments to come. The
    order's status is the caller's."""
    out = Settlement()
    planned = plan_leaving_line(
        db, order, line, policy=policy, days_before_start=days_before_start(line, clock)
    )
    plan, captured, upcoming = planned.plan, planned.captured, planned.upcoming
    out.kept_cents = plan.kept_cents
    for inst in captured:
        amount = plan.refunds.get(inst.id, 0)
        if amount <= 0:
            continue
        assert inst.charge_id is not None
        refund_charge(
            db,
            order=order,
            installment=inst,
            line_id=line.id,
            charge_id=inst.charge_id,
            amount_cents=amount,
            reason=reason,
            idempotency_key=f"{reason}-line-{line.id}-installment-{inst.id}",
            clock=clock,
        )
        out.refunded_cents += amount
        if refunded_from_charge(db, inst) >= inst.amount_cents:
            check_installment_transition(inst.status, InstallmentStatus.REFUNDED)
            inst.status = InstallmentStatus.REFUNDED
    for inst in upcoming:
        cut = plan.reductions.get(inst.id, 0)
        if cut == 0 and inst.amount_cents > 0:
            continue
        inst.amount_cents -= cut
        out.reduced_cents += cut
        if inst.amount_cents == 0:
            check_installment_transition(inst.status, InstallmentStatus.CANCELLED)
            inst.status = InstallmentStatus.CANCELLED
            out.cancelled_installments.append(
                {"seq": inst.seq, "due_on": views.iso(inst.due_on), "amount_cents": cut}
            )
        elif (
            inst.status == InstallmentStatus.FAILED
            and inst.gateway_session_id == order.gateway_session_id
        ):
            # Its payment link was for the old amount: a new one for the new amount.
            orders.open_checkout(
                db,
                order,
                inst,
                clock.now() + timedelta(hours=settings.offer_hours),
            )
    order.total_cents -= out.refunded_cents + out.reduced_cents
    out.remaining_due = [
        {"seq": i.seq, "due_on": views.iso(i.due_on), "amount_cents": i.amount_cents}
        for i in order.installments
        if i.status in UPCOMING
    ]
    db.flush()
    return out


def settle_cancelled_line(
    db: Session,
    order: Order,
    line: Line,
    *,
    clock: Clock,
    settings: Settings,
) -> Settlement:
    """`line` (already CANCELLED) leaves `order`: its money settled (`settle_leaving_line`),
    and the order's status follows what is left of it."""
    out = settle_leaving_line(
        db,
        order,
        line,
        reason="cancellation",
        clock=clock,
        settings=settings,
        policy=refund_policy(settings),
    )
    lines = db.scalars(select(Line).where(Line.order_id == order.id)).all()
    still_live = any(other.status in PLACE_HOLDING for other in lines if other.id != line.id)
    if not still_live:
        anything_paid = any(i.status in CAPTURED for i in order.installments)
        orders.set_order_status(
            order, OrderStatus.REFUNDED if anything_paid else OrderStatus.CANCELLED
        )
    elif order.status == OrderStatus.PARTIALLY_PAID and not any(
        i.status in UPCOMING for i in order.installments
    ):
        orders.set_order_status(order, OrderStatus.PAID)
    db.flush()
    return out
