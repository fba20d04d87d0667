"""Cancelling a registration: one use case, for a parent (family routes) and for city staff
(`backend.services.staff`, which checks roles and writes the audit row).

The line leaves its place (the waitlist is offered it), and a registration that was paid (or
accepted in a deferred season) is settled by the refund policy (`backend.domain.refunds`,
configured by CANCELLATION_FEE_CENTS and REFUND_DEADLINE_DAYS): what was paid for it comes
back less what the policy keeps, what it still owes comes off the installments to come, and
the payer is told ("registration_cancelled").
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from backend.adapters.clock import Clock
from backend.adapters.gateway import PaymentGateway
from backend.db.models import Line, LineStatus, Order
from backend.domain import refunds as rule
from backend.domain.errors import RegistrationError
from backend.domain.states import PLACE_HOLDING
from backend.i18n import _
from backend.services import capacity, outbox, queries, refunds, views, waitlist
from backend.services.cart import cancel_pending_order
from backend.services.message_format import period
from backend.settings import Settings

# What a parent may cancel: a place held in the cart, or a registration.
PARENT_CANCELLABLE = (LineStatus.HELD, LineStatus.CONFIRMED)


def _settled_order(db: Session, line: Line, was: LineStatus) -> Order | None:
    """The order whose money a cancellation of `line` (in state `was`) settles, if any."""
    if line.order_id is None or was != LineStatus.CONFIRMED:
        return None
    order = db.get(Order, line.order_id)
    return order if order is not None and order.status in refunds.SETTLED else None


def _line_part(db: Session, line: Line) -> dict[str, Any]:
    session = line.session
    return {
        "line": views.line_dict(db, line),
        "week_label": _("semaine %(week)s, %(period)s")
        % {"week": session.number, "period": period(session.starts_on, session.ends_on)},
    }


def outcome(db: Session, line: Line, *, clock: Clock, settings: Settings) -> dict[str, Any]:
    """What cancelling `line` now would do, changing nothing: the line, `refund_cents`,
    `fee_cents` (what the policy keeps) and `still_due_cancelled_cents` (what comes off the
    installments still to come)."""
    order = _settled_order(db, line, line.status)
    plan = rule.CancellationPlan(refunds={}, reductions={}, kept_cents=0)
    if order is not None:
        plan = refunds.plan_leaving_line(
            db,
            order,
            line,
            policy=refunds.refund_policy(settings),
            days_before_start=refunds.days_before_start(line, clock),
        ).plan
    return _line_part(db, line) | {
        "refund_cents": plan.refund_cents,
        "fee_cents": plan.kept_cents,
        "still_due_cancelled_cents": plan.reduced_cents,
    }


def cancel_line(
    db: Session,
    line: Line,
    was: LineStatus,
    *,
    clock: Clock,
    settings: Settings,
    gateway: PaymentGateway,
) -> refunds.Settlement:
    """Cancel `line` (found in state `was`, its session locked by the caller): its money
    settled (its refunds recorded, asked of the provider once committed), its place offered
    to the waitlist. Raises not_found when it changed meanwhile."""
    if not capacity.move(db, line, [was], LineStatus.CANCELLED):
        raise RegistrationError("not_found")
    order = _settled_order(db, line, was)
    settlement = refunds.Settlement()
    if order is not None:
        settlement = refunds.settle_cancelled_line(db, order, line, clock=clock, settings=settings)
        outbox.enqueue(
            db,
            clock=clock,
            family=queries.get_family(db, order.family_id),
            kind="registration_cancelled",
            params={
                "order_id": order.id,
                "line": views.message_line(db, line),
                "refunded_cents": settlement.refunded_cents,
                "cancelled_installments": settlement.cancelled_installments,
                "remaining_due": settlement.remaining_due,
            },
        )
    else:
        cancel_pending_order(db, line.order_id)
    if was in PLACE_HOLDING:
        capacity.release_line_places(db, line)
        waitlist.offer_free_places(
            db, line.session_id, clock=clock, settings=settings, gateway=gateway
        )
    db.flush()
    return settlement


# --------------------------------------------------------------------------- parents


def _family_line(db: Session, family_id: int, line_id: int, clock: Clock) -> Line:
    """The family's own line a parent may cancel now; not_found for anyone else's (never
    saying it exists), already_cancelled, activity_started."""
    line = db.get(Line, line_id)
    if line is None or line.cart.family_id != family_id:
        raise RegistrationError("not_found")
    if line.status in (LineStatus.CANCELLED, LineStatus.RELEASED):
        raise RegistrationError("already_cancelled")
    if line.status not in PARENT_CANCELLABLE:
        raise RegistrationError("not_found")
    starts_on = line.session.starts_on
    if not rule.parent_may_cancel(clock.now().date(), starts_on):
        raise RegistrationError("activity_started", starts_on=starts_on)
    return line


def family_outcome(
    db: Session, family_id: int, line_id: int, *, clock: Clock, settings: Settings
) -> dict[str, Any]:
    """`GET /api/family/lines/<id>/cancellation`: what cancelling would do now."""
    line = _family_line(db, family_id, line_id, clock)
    return outcome(db, line, clock=clock, settings=settings)


def family_cancel(
    db: Session,
    family_id: int,
    line_id: int,
    *,
    clock: Clock,
    settings: Settings,
    gateway: PaymentGateway,
) -> dict[str, Any]:
    """`POST /api/family/lines/<id>/cancel`: the parent cancels; what was done, and the line
    (now cancelled) with what is still due on its order."""
    line = _family_line(db, family_id, line_id, clock)
    capacity.lock_sessions(db, [line.session_id])
    db.refresh(line)
    line = _family_line(db, family_id, line_id, clock)
    done = cancel_line(db, line, line.status, clock=clock, settings=settings, gateway=gateway)
    return _line_part(db, line) | {
        "refund_cents": done.refunded_cents,
        "fee_cents": done.kept_cents,
        "still_due_cancelled_cents": done.reduced_cents,
        "cancelled_installments": done.cancelled_installments,
        "remaining_due": done.remaining_due,
    }
