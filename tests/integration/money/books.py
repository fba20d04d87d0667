"""The books, read from the backend's database and the gateway's ledger, and what must always
hold of them (docs/RELIABILITY.md, "Accounts that add up").

For every line billed in an order: paid = what captures allocated to it, refunded = what
went back to it.
- 0 <= refunded <= paid <= price;
- a cancelled line (or one a late payment could not confirm) has paid - refunded = the fee the
  policy keeps;
- in an order still being paid or paid, what the installments to come ask is exactly what its
  registered lines still owe (price - paid, summed): each one's paid + still due = its price;
- every captured installment is allocated exactly, to the cent.
And between the database and the gateway:
- every refund the gateway made is recorded, and every refund recorded was made;
- what the gateway kept (charges less refunds) is exactly what the lines were paid and kept,
  and a kept charge is the charge of exactly one installment (two payments for one
  installment keep one).
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.adapters.gateway import PaymentStatus
from backend.db.models import (
    Allocation,
    Installment,
    InstallmentStatus,
    Line,
    LineStatus,
    Order,
    OrderStatus,
    Refund,
    RefundStatus,
)
from backend.domain.refunds import FULL_REFUND, RefundPolicy, kept_fee_cents
from backend.domain.states import PLACE_HOLDING
from backend.services import payment_attempts as attempts
from backend.services import payments, views
from tests.integration.core.helpers import Harness
from tests.integration.money.fake_gateway import Charge, TestableGateway

UPCOMING = (InstallmentStatus.SCHEDULED, InstallmentStatus.FAILED)
CAPTURED = (InstallmentStatus.PAID, InstallmentStatus.REFUNDED)
BEING_PAID = (OrderStatus.PARTIALLY_PAID, OrderStatus.PAID, OrderStatus.DEFERRED)


@dataclass(frozen=True)
class Capture:
    """A payment the provider took on the hosted page, its webhook not delivered yet."""

    event_id: str
    charge_id: str  # the provider's payment id
    card: str
    save_card: bool


def pay_link(h: Harness, order_id: int, *, save_card: bool = False) -> Capture:
    """The parent pays the order's current link as the hosted page does (`card_payments`):
    a card setup confirmed in the browser, the card attached, an attempt recorded, the payment
    created, its id recorded, then confirmed and its answer recorded on the attempt. The
    order itself is settled by the webhook (`deliver`), which may come late, twice or never.
    Each call is another tab: a new setup, a new attempt, a new payment."""
    gateway: TestableGateway = h.gateway  # type: ignore[assignment]

    def link(db: Session) -> tuple[int, str | None, int]:
        order = db.get(Order, order_id)
        assert order is not None and order.gateway_session_id is not None
        inst = next(
            i for i in order.installments if i.gateway_session_id == order.gateway_session_id
        )
        return inst.id, order.gateway_customer_id, order.family_id

    inst_id, customer, family_id = h.run(link)
    if customer is None:
        created = gateway.ensure_customer(
            family_id=family_id, idempotency_key=f"customer-order-{order_id}"
        )

        def keep_first(db: Session) -> str:
            order = db.get(Order, order_id)
            assert order is not None
            if order.gateway_customer_id is None:
                order.gateway_customer_id = created
            return order.gateway_customer_id

        customer = h.run(keep_first)
    tab = secrets.token_hex(4)
    setup = gateway.create_card_setup(customer_id=customer, idempotency_key=f"setup-{tab}")
    gateway.browser_confirms_setup(setup.client_secret)
    card = gateway.retrieve_card_setup(setup.id).payment_method_id
    assert card is not None
    gateway.attach_card(payment_method_id=card, customer_id=customer)

    def start(db: Session) -> attempts.StartedAttempt:
        inst = db.get(Installment, inst_id)
        assert inst is not None
        return attempts.start(
            db, inst, key=f"pay-{inst.id}-{setup.id}", off_session=False, clock=h.clock
        )

    attempt = h.run(start)
    payment = gateway.create_payment(
        customer_id=customer,
        payment_method_id=card,
        amount_cents=attempt.amount_cents,
        tags=attempt.tags,
        idempotency_key=attempt.idempotency_key,
        confirm=False,
    )
    h.run(lambda db: attempts.record_created(db, attempt.id, payment, clock=h.clock))
    paid = gateway.confirm_payment(payment.id)
    assert paid.status == PaymentStatus.SUCCEEDED, paid
    h.run(lambda db: attempts.record_created(db, attempt.id, paid, clock=h.clock))
    return Capture(event_id=f"evt_{paid.id}", charge_id=paid.id, card=card, save_card=save_card)


def deliver(h: Harness, capture: Capture) -> dict[str, Any]:
    """The provider's `payment_intent.succeeded` for `capture`, as the webhook hands it to the
    backend (replays share the event id); the card stays on file with the parent's consent."""
    # As the webhook route does: the card's digits asked before the transaction.
    payment = payments.with_card_digits(h.gateway, h.gateway.retrieve_payment(capture.charge_id))

    def record(db: Session) -> dict[str, Any]:
        if capture.save_card and payment.tags is not None:
            order = db.get(Order, payment.tags.order_id)
            if order is not None and order.card_on_file_consent:
                order.card_token = capture.card
        return payments.on_payment_succeeded(
            db, event_id=capture.event_id, payment=payment, clock=h.clock, settings=h.settings
        )

    return h.run(record)


def _sums(db: Session, column: Any, key: Any, *where: Any) -> dict[Any, int]:
    rows = db.execute(select(key, func.sum(column)).where(*where).group_by(key)).all()
    return {k: int(v) for k, v in rows}


def problems(
    db: Session, ledger: dict[str, Charge], policy: RefundPolicy = FULL_REFUND
) -> list[str]:
    """Every way the books do not add up (empty when they do). A cancelled line keeps the
    fee of `policy` (its refund deadline is not checked here: the scenarios cancel early); a
    line a late payment could not confirm keeps nothing."""
    out: list[str] = []
    paid = _sums(db, Allocation.amount_cents, Allocation.line_id)
    refunded = _sums(db, Refund.amount_cents, Refund.line_id, Refund.line_id.is_not(None))
    allocated_by_inst = _sums(db, Allocation.amount_cents, Allocation.installment_id)
    unallocated = {
        (inst_id, charge_id): int(total)
        for inst_id, charge_id, total in db.execute(
            select(Refund.installment_id, Refund.charge_id, func.sum(Refund.amount_cents))
            .where(Refund.line_id.is_(None))
            .group_by(Refund.installment_id, Refund.charge_id)
        ).all()
    }
    orders = db.scalars(select(Order).order_by(Order.id)).all()
    for order in orders:
        lines = db.scalars(select(Line).where(Line.order_id == order.id).order_by(Line.id)).all()
        owed = 0
        for line in lines:
            p, r, price = paid.get(line.id, 0), refunded.get(line.id, 0), views.line_price(line)
            if not 0 <= r <= p <= price:
                out.append(f"line {line.id}: refunded {r}, paid {p}, price {price}")
            gone = line.status not in PLACE_HOLDING
            rule = policy if line.status == LineStatus.CANCELLED else FULL_REFUND
            if gone and order.status in BEING_PAID and p - r != kept_fee_cents(p, rule):
                out.append(f"line {line.id} ({line.status}): paid {p}, refunded {r}")
            if not gone:
                owed += price - p
            if line.status == LineStatus.CONFIRMED and order.status not in (
                *BEING_PAID,
                OrderStatus.AWAITING_PAYMENT,
            ):
                out.append(f"line {line.id} confirmed in a {order.status} order {order.id}")
        due = sum(i.amount_cents for i in order.installments if i.status in UPCOMING)
        if order.status in BEING_PAID and due != owed:
            out.append(f"order {order.id} ({order.status}): {due} to come, lines owe {owed}")
        for inst in order.installments:
            got = allocated_by_inst.get(inst.id, 0)
            # A capture refunded whole on arrival (its order was closed) paid for no line.
            whole = unallocated.get((inst.id, inst.charge_id), 0)
            want = inst.amount_cents - whole if inst.status in CAPTURED and inst.charge_id else 0
            if got != want:
                out.append(f"installment {inst.id}: captured {want}, allocated {got}")
    recorded = _sums(
        db, Refund.amount_cents, Refund.charge_id, Refund.status != RefundStatus.FAILED
    )
    for row in db.scalars(select(Refund).where(Refund.status != RefundStatus.SUCCEEDED)):
        out.append(f"refund {row.id} ({row.reason}) is {row.status}, not made")
    installment_of = defaultdict(list)
    for inst_id, charge_id in db.execute(
        select(Installment.id, Installment.charge_id).where(Installment.charge_id.is_not(None))
    ).all():
        installment_of[charge_id].append(inst_id)
    kept_total = 0
    for charge_id, charge in ledger.items():
        if recorded.get(charge_id, 0) != charge.refunded_cents:
            out.append(
                f"charge {charge_id}: gateway refunded {charge.refunded_cents}, "
                f"recorded {recorded.get(charge_id, 0)}"
            )
        kept = charge.amount_cents - charge.refunded_cents
        kept_total += kept
        if kept and len(installment_of.get(charge_id, [])) != 1:
            out.append(
                f"charge {charge_id} keeps {kept} for installments "
                f"{installment_of.get(charge_id, [])}"
            )
    for charge_id in recorded:
        if charge_id not in ledger:
            out.append(f"refund recorded on {charge_id}, which the gateway never charged")
    lines_kept = sum(paid.values()) - sum(refunded.values())
    if kept_total != lines_kept:
        out.append(f"gateway keeps {kept_total}, lines were paid and kept {lines_kept}")
    return out


def assert_books(h: Harness, ledger: dict[str, Charge]) -> None:
    policy = RefundPolicy(fee_cents=h.settings.cancellation_fee_cents)
    found = h.run(lambda db: problems(db, ledger, policy))
    assert found == [], "\n".join(found)


def line_money(h: Harness, line_id: int) -> tuple[int, int]:
    """(paid, refunded) for one line."""

    def q(db: Session) -> tuple[int, int]:
        p = db.scalar(
            select(func.coalesce(func.sum(Allocation.amount_cents), 0)).where(
                Allocation.line_id == line_id
            )
        )
        r = db.scalar(
            select(func.coalesce(func.sum(Refund.amount_cents), 0)).where(Refund.line_id == line_id)
        )
        return int(p or 0), int(r or 0)

    return h.run(q)
