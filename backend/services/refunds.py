"""Settling money when staff cancel a registration that was paid (or accepted in a deferred
season): refunds through the gateway, what is still due reduced or cancelled, the ledger.

The rule itself is pure (`backend.domain.refunds`); this module applies it to an order and
records every refund in the `refund` table (the order's `refunded_cents` comes from it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.adapters.clock import Clock
from backend.adapters.gateway import PaymentGateway
from backend.db.models import (
    Installment,
    InstallmentStatus,
    Line,
    Order,
    OrderStatus,
    Refund,
)
from backend.domain import refunds as rule
from backend.domain.errors import RegistrationError
from backend.domain.states import PLACE_HOLDING, check_installment_transition
from backend.services import orders, views
from backend.settings import Settings

# Orders whose lines are registrations the family has paid for (or will, deferred season).
SETTLED = (OrderStatus.PAID, OrderStatus.PARTIALLY_PAID, OrderStatus.DEFERRED)


@dataclass
class Settlement:
    refunded_cents: int = 0
    reduced_cents: int = 0
    cancelled_installments: list[dict[str, Any]] = field(default_factory=list)
    remaining_due: list[dict[str, Any]] = field(default_factory=list)


def refunded_for_installment(db: Session, installment_id: int) -> int:
    return int(
        db.scalar(
            select(func.coalesce(func.sum(Refund.amount_cents), 0)).where(
                Refund.installment_id == installment_id
            )
        )
        or 0
    )


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
    gateway: PaymentGateway,
) -> Refund:
    """Refund part of a charge through the gateway and record it; refund_failed otherwise."""
    result = gateway.refund(
        payment_id=charge_id, amount_cents=amount_cents, idempotency_key=idempotency_key
    )
    if not result.ok:
        raise RegistrationError("refund_failed", decline_code=result.decline_code)
    row = Refund(
        order_id=order.id,
        installment_id=installment.id if installment is not None else None,
        line_id=line_id,
        charge_id=charge_id,
        amount_cents=amount_cents,
        reason=reason,
        gateway_refund_id=result.id,
        created_at=clock.now(),
    )
    db.add(row)
    db.flush()
    return row


def settle_cancelled_line(
    db: Session,
    order: Order,
    line: Line,
    *,
    clock: Clock,
    settings: Settings,
    gateway: PaymentGateway,
) -> Settlement:
    """`line` (already CANCELLED) leaves `order`: refund its share of what was paid, take its
    share out of what is still due, and update the order's status and total."""
    out = Settlement()
    lines = list(db.scalars(select(Line).where(Line.order_id == order.id).order_by(Line.id)))
    plan = rule.cancellation_plan(
        line.id,
        [
            rule.OrderLine(
                id=other.id,
                price_cents=views.line_price(other),
                live=other.status in PLACE_HOLDING,
            )
            for other in lines
        ],
        [
            rule.OrderInstallment(
                id=inst.id,
                amount_cents=inst.amount_cents,
                paid=inst.status == InstallmentStatus.PAID,
            )
            for inst in order.installments
            if inst.status
            in (InstallmentStatus.PAID, InstallmentStatus.SCHEDULED, InstallmentStatus.FAILED)
        ],
    )
    for inst in order.installments:
        if inst.id in plan.refunds and plan.refunds[inst.id] > 0:
            assert inst.charge_id is not None
            amount = plan.refunds[inst.id]
            refund_charge(
                db,
                order=order,
                installment=inst,
                line_id=line.id,
                charge_id=inst.charge_id,
                amount_cents=amount,
                reason="cancellation",
                idempotency_key=f"cancel-line-{line.id}-installment-{inst.id}",
                clock=clock,
                gateway=gateway,
            )
            out.refunded_cents += amount
            if refunded_for_installment(db, inst.id) >= inst.amount_cents:
                check_installment_transition(inst.status, InstallmentStatus.REFUNDED)
                inst.status = InstallmentStatus.REFUNDED
        elif inst.id in plan.reductions:
            cut = plan.reductions[inst.id]
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
                    db, order, inst, clock.now() + timedelta(hours=settings.offer_hours)
                )
    order.total_cents -= out.refunded_cents + out.reduced_cents
    still_live = any(other.status in PLACE_HOLDING for other in lines if other.id != line.id)
    if not still_live:
        anything_paid = any(
            i.status in (InstallmentStatus.PAID, InstallmentStatus.REFUNDED)
            for i in order.installments
        )
        orders.set_order_status(
            order, OrderStatus.REFUNDED if anything_paid else OrderStatus.CANCELLED
        )
    elif order.status == OrderStatus.PARTIALLY_PAID and not any(
        i.status in (InstallmentStatus.SCHEDULED, InstallmentStatus.FAILED)
        for i in order.installments
    ):
        orders.set_order_status(order, OrderStatus.PAID)
    out.remaining_due = [
        {"seq": i.seq, "due_on": views.iso(i.due_on), "amount_cents": i.amount_cents}
        for i in order.installments
        if i.status in (InstallmentStatus.SCHEDULED, InstallmentStatus.FAILED)
    ]
    db.flush()
    return out
