"""Orders: their creation with the installment plan, their status changes and the gateway
checkout that pays an installment."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.adapters.clock import Clock, local_date
from backend.db.models import (
    Category,
    Family,
    Installment,
    InstallmentStatus,
    Line,
    Order,
    OrderStatus,
)
from backend.domain import installments as terms_rule
from backend.domain.states import check_order_transition
from backend.services.views import line_price


def paid_lines(lines: Sequence[Line]) -> list[terms_rule.PaidLine]:
    return [
        terms_rule.PaidLine(
            is_day_camp=line.session.group.program.category == Category.DAY_CAMP,
            price_cents=line_price(line),
            starts_on=line.session.starts_on,
        )
        for line in lines
    ]


def new_pay_token(db: Session) -> str:
    while True:
        token = secrets.token_urlsafe(8)  # 11 url-safe characters: short enough for an SMS
        if db.scalar(select(Order.id).where(Order.pay_token == token)) is None:
            return token


def set_order_status(order: Order, new: OrderStatus) -> None:
    check_order_transition(order.status, new)
    order.status = new


def create_order(
    db: Session,
    family: Family,
    lines: Sequence[Line],
    *,
    count: int,
    card_on_file_consent: bool,
    link_expires_at: datetime,
    idempotency_key: str | None,
    deferred: bool,
    clock: Clock,
) -> Order:
    """An order for `lines` with its installments; in a normal season, a payment link for
    the first installment (no provider call: the hosted page makes them). The caller
    validated `count` against the terms."""
    now = clock.now()
    plan = terms_rule.terms(paid_lines(lines), local_date(clock)).plans[count]
    order = Order(
        family_id=family.id,
        status=OrderStatus.DEFERRED if deferred else OrderStatus.AWAITING_PAYMENT,
        total_cents=sum(d.amount_cents for d in plan),
        installment_count=count,
        terms_accepted_at=now,
        card_on_file_consent=card_on_file_consent,
        pay_token=new_pay_token(db),
        pay_link_expires_at=link_expires_at,
        created_at=now,
        idempotency_key=idempotency_key,
    )
    db.add(order)
    for due in plan:
        order.installments.append(
            Installment(
                seq=due.seq,
                due_on=due.due_on,
                amount_cents=due.amount_cents,
                status=InstallmentStatus.SCHEDULED,
                attempts=0,
            )
        )
    if not deferred:
        # Before the insert: the link goes in with the order, no second write.
        open_checkout(db, order, order.installments[0], link_expires_at)
    db.flush()
    for line in lines:
        line.order_id = order.id
    db.flush()
    return order


def open_checkout(
    db: Session,
    order: Order,
    installment: Installment,
    expires_at: datetime,
) -> None:
    """Point the order's short link at `installment` until `expires_at`.

    No provider call here (this runs inside a transaction): the hosted page asks the provider
    for a card-setup session when it is opened. A new link forgets the previous link's setup."""
    link = f"link_{secrets.token_hex(16)}"
    installment.gateway_session_id = link
    order.gateway_session_id = link
    order.card_setup_id = None
    order.pay_link_expires_at = expires_at
