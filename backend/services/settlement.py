"""What a captured payment does to an order: the installment paid once, the lines confirmed,
the money allocated to them, the rest refunded.

- Of two captures for one installment (two tabs, a retried webhook with a new charge, the job
  and a payment link), exactly one wins a conditional UPDATE of the installment; the other
  charge is refunded in full ("duplicate_payment"), on SQLite and PostgreSQL alike.
- The lines a capture pays for are the order's lines not cancelled. A held or offered line is
  confirmed; a released one (its hold ran out before the payment arrived) is confirmed only if
  its places can be retaken and the child holds no other line in that session or in one that
  meets at the same time; the others are refunded what the capture paid for them
  ("late_payment"), the rest is kept.
- The captured amount is allocated to those lines (`backend.domain.allocation`) and recorded:
  refunds follow that record.

Every pool of the order's sessions is locked first, in canonical order, before the installment
row: a staff cancellation of the same order then queues behind instead of deadlocking.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from backend.adapters.clock import Clock
from backend.db.models import (
    Allocation,
    Installment,
    InstallmentStatus,
    Line,
    LineStatus,
    Order,
    OrderStatus,
)
from backend.domain import allocation as rule
from backend.domain.states import PLACE_HOLDING, check_installment_transition
from backend.services import capacity, orders, overlaps, refunds, views
from backend.settings import Settings

# What a capture may still pay (a cancelled installment: a late payment on a superseded order).
PAYABLE = (InstallmentStatus.SCHEDULED, InstallmentStatus.FAILED, InstallmentStatus.CANCELLED)
# Orders whose lines may no longer be confirmed by a payment.
CLOSED = (OrderStatus.CANCELLED, OrderStatus.REFUNDED)

Outcome = Literal["paid", "refunded", "duplicate"]


@dataclass
class Captured:
    outcome: Outcome
    kept: list[Line] = field(default_factory=list)
    rejected: list[Line] = field(default_factory=list)
    refunded_cents: int = 0


def order_lines(db: Session, order: Order) -> list[Line]:
    return list(db.scalars(select(Line).where(Line.order_id == order.id).order_by(Line.id)))


def claim(db: Session, inst: Installment) -> bool:
    """Mark the installment paid if it still can be: True for exactly one of two concurrent
    captures (the loser's UPDATE re-reads the row once the winner commits, and matches none)."""
    db.flush()
    result = db.execute(
        update(Installment)
        .where(Installment.id == inst.id, Installment.status.in_(PAYABLE))
        .values(status=InstallmentStatus.PAID)
        .execution_options(synchronize_session=False)
    )
    db.refresh(inst)
    return cast(CursorResult[Any], result).rowcount == 1


def registered_elsewhere(db: Session, line: Line) -> bool:
    """The child already holds a place in the line's session through another line."""
    other = db.scalar(
        select(Line.id).where(
            Line.person_id == line.person_id,
            Line.session_id == line.session_id,
            Line.id != line.id,
            Line.status.in_(PLACE_HOLDING),
        )
    )
    return other is not None


def _blocked_by_overlap(db: Session, lines: list[Line], *, clock: Clock) -> set[int]:
    """Released lines whose child now holds another session meeting at the same time (the
    overlap rule, `backend.services.overlaps`). Each child is row-locked, in id order, before
    any pool: the lock order of every request that places a child."""
    blocked: set[int] = set()
    released = [line for line in lines if line.status == LineStatus.RELEASED]
    for person_id in sorted({line.person_id for line in released}):
        mine = [line for line in released if line.person_id == person_id]
        _child, taken = overlaps.lock_child_and_read(
            db,
            person_id,
            [line.session for line in mine],
            now=clock.now(),
            except_line_ids=[line.id for line in mine],
        )
        blocked |= {line.id for line in mine if overlaps.conflict_for(line.session, taken)}
    return blocked


def _confirm(db: Session, line: Line, blocked: set[int]) -> bool:
    """Confirm a line this payment is for; False when its place cannot be had any more."""
    if line.status == LineStatus.CONFIRMED:
        return True
    if line.status in (LineStatus.HELD, LineStatus.OFFERED):
        return capacity.move(
            db,
            line,
            [line.status],
            LineStatus.CONFIRMED,
            hold_expires_at=None,
            offer_expires_at=None,
        )
    if line.status != LineStatus.RELEASED or line.id in blocked:
        return False
    if registered_elsewhere(db, line):
        return False
    if not capacity.take_line_places(db, line):
        return False
    if capacity.move(db, line, [LineStatus.RELEASED], LineStatus.CONFIRMED, hold_expires_at=None):
        return True
    capacity.release_line_places(db, line)
    return False


def record_allocation(
    db: Session, inst: Installment, lines: list[Line], *, clock: Clock
) -> dict[int, int]:
    """Allocate the installment's capture to `lines` and record it."""
    paid_before: dict[int, int] = {}
    for line in lines:
        paid_before[line.id] = sum(refunds.allocated(db, line.id).values())
    shares = rule.allocate_capture(
        inst.amount_cents,
        [rule.LineAccount(line.id, views.line_price(line), paid_before[line.id]) for line in lines],
    )
    now = clock.now()
    for line_id, cents in shares.items():
        db.add(
            Allocation(installment_id=inst.id, line_id=line_id, amount_cents=cents, created_at=now)
        )
    db.flush()
    return shares


def capture(
    db: Session,
    inst: Installment,
    *,
    charge_id: str,
    clock: Clock,
    settings: Settings,
) -> Captured:
    """A charge of exactly `inst.amount_cents` succeeded for `inst`: settle it (module doc)."""
    order = inst.order
    lines = order_lines(db, order)
    blocked = _blocked_by_overlap(db, lines, clock=clock)
    capacity.lock_sessions(db, {line.session_id for line in lines})
    if not claim(db, inst):
        if inst.charge_id == charge_id:
            # This very charge was captured already (the page's answer, then its webhook, or
            # the other way round), maybe refunded since: there is nothing left to settle.
            return Captured("duplicate")
        refunds.refund_charge(
            db,
            order=order,
            installment=inst,
            line_id=None,
            charge_id=charge_id,
            amount_cents=inst.amount_cents,
            reason="duplicate_payment",
            idempotency_key=f"refund-duplicate_payment-{charge_id}",
            clock=clock,
        )
        return Captured("duplicate", refunded_cents=inst.amount_cents)
    inst.charge_id = charge_id
    inst.paid_at = clock.now()
    billed = [line for line in lines if line.status != LineStatus.CANCELLED]
    out = Captured("paid")
    if order.status in CLOSED or not billed:
        refunds.refund_charge(
            db,
            order=order,
            installment=inst,
            line_id=None,
            charge_id=charge_id,
            amount_cents=inst.amount_cents,
            reason="late_payment",
            idempotency_key=f"refund-{charge_id}",
            clock=clock,
        )
        check_installment_transition(inst.status, InstallmentStatus.REFUNDED)
        inst.status = InstallmentStatus.REFUNDED
        orders.set_order_status(order, OrderStatus.REFUNDED)
        db.flush()
        return Captured("refunded", rejected=billed, refunded_cents=inst.amount_cents)
    for line in billed:
        (out.kept if _confirm(db, line, blocked) else out.rejected).append(line)
    record_allocation(db, inst, billed, clock=clock)
    for line in out.rejected:
        settled = refunds.settle_leaving_line(
            db,
            order,
            line,
            reason="late_payment",
            clock=clock,
            settings=settings,
        )
        out.refunded_cents += settled.refunded_cents
    if not out.kept:
        out.outcome = "refunded"
        orders.set_order_status(order, OrderStatus.REFUNDED)
    elif any(i.status in refunds.UPCOMING for i in order.installments):
        orders.set_order_status(order, OrderStatus.PARTIALLY_PAID)
    else:
        orders.set_order_status(order, OrderStatus.PAID)
    db.flush()
    return out
