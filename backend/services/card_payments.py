"""Paying on the hosted page, through the provider: record, commit, call, record the result.

No provider call runs inside a database transaction. The browser gives the card to the
provider's script (a card-setup session); the server then attaches the resulting payment
method to the order's customer, records an attempt, creates the payment, records its id,
confirms it, and records what happened through the same handler the webhooks use
(`payments.on_payment_succeeded`). The card stays on file for a later installment only when the
parent consented; otherwise it is detached once the payment succeeded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from backend.adapters.clock import Clock
from backend.adapters.gateway import (
    CardDeclined,
    GatewayError,
    Payment,
    PaymentGateway,
    PaymentStatus,
)
from backend.db.engine import run_transaction
from backend.db.models import Installment, Order
from backend.domain.errors import RegistrationError
from backend.services import payment_attempts as attempts
from backend.services import payments, refund_sender
from backend.services.checkout import payment_page_view
from backend.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class PageSetup:
    view: dict[str, Any]
    client_secret: str  # the card-setup session's, for the provider's script in the page


@dataclass(frozen=True)
class PayOutcome:
    """`status`: "paid", "requires_action" (run the card's authentication in the page, then
    finish), "declined", or "refunded" (paid, but the places were gone: given back)."""

    status: str
    amount_cents: int
    client_secret: str | None = None
    decline_code: str | None = None


@dataclass(frozen=True)
class _Link:
    order_id: int
    family_id: int
    installment_id: int
    amount_cents: int
    customer_id: str | None
    setup_id: str | None
    keep_card: bool


class Payer:
    """The hosted page's use cases, over a session factory and the gateway."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        *,
        gateway: PaymentGateway,
        clock: Clock,
        settings: Settings,
    ) -> None:
        self._factory = factory
        self._gateway = gateway
        self._clock = clock
        self._settings = settings

    def _tx(self, fn: Callable[[Session], T], *, write: bool = True) -> T:
        return run_transaction(self._factory, fn, write=write)

    def _link(self, pay_token: str) -> tuple[dict[str, Any], _Link]:
        def read(db: Session) -> tuple[dict[str, Any], _Link]:
            view = payment_page_view(db, pay_token, clock=self._clock)
            order = db.get(Order, int(view["order_id"]))
            assert order is not None
            inst = next(i for i in order.installments if i.seq == view["installment_seq"])
            return view, _Link(
                order_id=order.id,
                family_id=order.family_id,
                installment_id=inst.id,
                amount_cents=inst.amount_cents,
                customer_id=order.gateway_customer_id,
                setup_id=order.card_setup_id,
                keep_card=bool(view["save_card"]),
            )

        return self._tx(read, write=False)

    # ------------------------------------------------------------------ the page

    def open_page(self, pay_token: str) -> PageSetup:
        """The page's view and a card-setup session for it (reused while the link lasts)."""
        view, link = self._link(pay_token)
        if link.setup_id is not None:
            setup = self._gateway.retrieve_card_setup(link.setup_id)
            if not setup.succeeded:
                return PageSetup(view=view, client_secret=setup.client_secret)
        customer = link.customer_id or self._customer(link)
        setup = self._gateway.create_card_setup(
            customer_id=customer, idempotency_key=f"setup-{view['gateway_session_id']}"
        )

        def remember(db: Session) -> None:
            order = db.get(Order, link.order_id)
            if order is not None and order.gateway_session_id == view["gateway_session_id"]:
                order.card_setup_id = setup.id

        self._tx(remember)
        return PageSetup(view=view, client_secret=setup.client_secret)

    def _customer(self, link: _Link) -> str:
        created = self._gateway.ensure_customer(
            family_id=link.family_id, idempotency_key=f"customer-order-{link.order_id}"
        )

        def keep_first(db: Session) -> str:
            # Two pages opened at once may each create one: the first recorded is the one used.
            order = db.get(Order, link.order_id)
            assert order is not None
            if order.gateway_customer_id is None:
                order.gateway_customer_id = created
            return order.gateway_customer_id

        return self._tx(keep_first)

    # ------------------------------------------------------------------ paying

    def pay(self, pay_token: str, setup_id: str) -> PayOutcome:
        """The browser confirmed the card-setup session `setup_id`: pay the link's installment."""
        _view, link = self._link(pay_token)
        setup = self._gateway.retrieve_card_setup(setup_id)
        if link.customer_id is None or setup.customer_id != link.customer_id:
            raise RegistrationError("not_found")  # a setup of another order, or forged
        if not setup.succeeded or setup.payment_method_id is None:
            return PayOutcome("declined", link.amount_cents, decline_code="setup_incomplete")
        card = setup.payment_method_id
        try:
            self._gateway.attach_card(payment_method_id=card, customer_id=link.customer_id)
        except CardDeclined as declined:
            self._forget_setup(link)
            return PayOutcome("declined", link.amount_cents, decline_code=declined.code)

        def start(db: Session) -> attempts.StartedAttempt:
            inst = db.get(Installment, link.installment_id)
            assert inst is not None
            return attempts.start(
                db, inst, key=f"pay-{inst.id}-{setup_id}", off_session=False, clock=self._clock
            )

        attempt = self._tx(start)
        # A resumed attempt's create may have reached the provider with its answer lost.
        found = (
            self._gateway.find_payment(customer_id=link.customer_id, tags=attempt.tags)
            if attempt.payment_id is None and attempt.resumed
            else None
        )
        if attempt.payment_id is not None:
            payment = self._gateway.retrieve_payment(attempt.payment_id)
        elif found is not None:
            payment = found
            self._tx(lambda db: attempts.record_created(db, attempt.id, found, clock=self._clock))
        else:
            payment = self._gateway.create_payment(
                customer_id=link.customer_id,
                payment_method_id=card,
                amount_cents=attempt.amount_cents,
                tags=attempt.tags,
                idempotency_key=attempt.idempotency_key,
                confirm=False,
            )
            self._tx(lambda db: attempts.record_created(db, attempt.id, payment, clock=self._clock))
        if payment.status not in (
            PaymentStatus.SUCCEEDED,
            PaymentStatus.REQUIRES_ACTION,
            PaymentStatus.REQUIRES_PAYMENT_METHOD,
        ):
            payment = self._gateway.confirm_payment(payment.id)
        return self._settle(link, attempt.id, payment, card)

    def finish(self, pay_token: str, payment_id: str) -> PayOutcome:
        """After the card's authentication step in the page: what became of the payment."""
        _view, link = self._link(pay_token)
        payment = self._gateway.retrieve_payment(payment_id)
        if payment.tags is None or payment.tags.installment_id != link.installment_id:
            raise RegistrationError("not_found")
        card = payment.payment_method_id
        return self._settle(link, None, payment, card)

    def _settle(
        self, link: _Link, attempt_id: int | None, payment: Payment, card: str | None
    ) -> PayOutcome:
        if payment.status == PaymentStatus.REQUIRES_ACTION:
            if attempt_id is not None:
                self._tx(
                    lambda db: attempts.record_created(db, attempt_id, payment, clock=self._clock)
                )
            return PayOutcome(
                "requires_action", link.amount_cents, client_secret=payment.client_secret
            )
        if payment.status != PaymentStatus.SUCCEEDED:
            self._tx(
                lambda db: payments.on_payment_failed(
                    db, event_id=None, payment=payment, clock=self._clock
                )
            )
            self._forget_setup(link)
            return PayOutcome("declined", link.amount_cents, decline_code=payment.decline_code)

        keep = link.keep_card and card is not None
        payment = payments.with_card_digits(self._gateway, payment)

        def record(db: Session) -> dict[str, Any]:
            if keep:
                order = db.get(Order, link.order_id)
                assert order is not None
                order.card_token = card
            return payments.on_payment_succeeded(
                db,
                event_id=None,
                payment=payment,
                clock=self._clock,
                settings=self._settings,
            )

        result = self._tx(record)
        # A late or duplicate payment recorded refunds: asked for now that they are committed.
        refund_sender.send_pending(self._factory, gateway=self._gateway, clock=self._clock)
        if card is not None and not keep:
            self._detach(card)
        status = "refunded" if result["outcome"] == "refunded" else "paid"
        return PayOutcome(status, payment.amount_cents)

    def _forget_setup(self, link: _Link) -> None:
        """A declined card: the next page load asks for a new card-setup session."""

        def forget(db: Session) -> None:
            order = db.get(Order, link.order_id)
            if order is not None and order.card_setup_id == link.setup_id:
                order.card_setup_id = None

        self._tx(forget)

    def _detach(self, card: str) -> None:
        try:
            self._gateway.detach_card(payment_method_id=card)
        except GatewayError as error:
            # The payment is recorded; a card left attached is only kept by the provider.
            log.warning("card not detached after payment (%s)", error.kind)
