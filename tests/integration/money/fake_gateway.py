"""An in-process fake of the gateway port (`backend.adapters.gateway`), keeping the provider's
side of the books.

It behaves as the provider does where money is concerned: a card set up in the browser is
attached to a customer; a payment created unconfirmed takes money only when confirmed; an
off-session payment of a saved card can be made to decline; a create with an idempotency key
already used returns what the first one did; a refund larger than what is left on its payment
is refused. It also answers what a contract test needs of any gateway (`TestableGateway`):
the browser's card step, every succeeded payment with what was refunded of it (`ledger`), and
"saved cards now decline", so the same scenarios run against it and against localstripe
(`tests/integration/money/localstripe_books.py`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from typing import Protocol

from backend.adapters.gateway import (
    CardSetup,
    Payment,
    PaymentEvent,
    PaymentGateway,
    PaymentStatus,
    PaymentTags,
    RefundResult,
    WebhookRejected,
)


@dataclass
class Charge:
    amount_cents: int
    refunded_cents: int = 0


class TestableGateway(PaymentGateway, Protocol):
    """The port, plus what a test plays on the provider's and the browser's side."""

    def browser_confirms_setup(self, client_secret: str) -> None:
        """The parent's browser gives an approved card to the provider for this setup."""
        ...

    def ledger(self) -> dict[str, Charge]: ...

    def decline_saved_cards(self, decline: bool) -> None: ...


@dataclass
class _Payment:
    customer_id: str
    payment_method_id: str
    amount_cents: int
    tags: PaymentTags
    status: PaymentStatus
    decline_code: str | None = None
    refunded_cents: int = 0


@dataclass
class FakeGateway:
    customers: set[str] = field(default_factory=set)
    setups: dict[str, CardSetup] = field(default_factory=dict)
    cards: dict[str, str | None] = field(default_factory=dict)  # payment method -> customer
    payments: dict[str, _Payment] = field(default_factory=dict)
    by_key: dict[str, object] = field(default_factory=dict)
    declining: bool = False
    # Requests a real provider would refuse: never asked by correct books.
    refused: list[str] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def _id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids)}"

    def _view(self, pid: str) -> Payment:
        p = self.payments[pid]
        return Payment(
            id=pid,
            status=p.status,
            amount_cents=p.amount_cents,
            client_secret=f"{pid}_secret",
            payment_method_id=p.payment_method_id,
            decline_code=p.decline_code,
            tags=p.tags,
        )

    # ------------------------------------------------------------------ the port

    def ensure_customer(self, *, family_id: int, idempotency_key: str) -> str:
        if idempotency_key in self.by_key:
            return str(self.by_key[idempotency_key])
        customer = self._id("cus")
        self.customers.add(customer)
        self.by_key[idempotency_key] = customer
        return customer

    def create_card_setup(self, *, customer_id: str, idempotency_key: str) -> CardSetup:
        if idempotency_key in self.by_key:
            return self.setups[str(self.by_key[idempotency_key])]
        if customer_id not in self.customers:
            self.refused.append(f"card setup for unknown customer {customer_id}")
        sid = self._id("seti")
        self.setups[sid] = CardSetup(
            id=sid, client_secret=f"{sid}_secret_x", customer_id=customer_id
        )
        self.by_key[idempotency_key] = sid
        return self.setups[sid]

    def retrieve_card_setup(self, setup_id: str) -> CardSetup:
        return self.setups[setup_id]

    def attach_card(self, *, payment_method_id: str, customer_id: str) -> None:
        if payment_method_id not in self.cards:
            self.refused.append(f"attach of unknown card {payment_method_id}")
        self.cards[payment_method_id] = customer_id

    def detach_card(self, *, payment_method_id: str) -> None:
        self.cards[payment_method_id] = None

    def create_payment(
        self,
        *,
        customer_id: str,
        payment_method_id: str,
        amount_cents: int,
        tags: PaymentTags,
        idempotency_key: str,
        confirm: bool,
        off_session: bool = False,
    ) -> Payment:
        if idempotency_key in self.by_key:
            return self._view(str(self.by_key[idempotency_key]))
        if self.cards.get(payment_method_id) != customer_id or amount_cents <= 0:
            self.refused.append(f"payment of {amount_cents} with {payment_method_id}: invalid")
        pid = self._id("pi")
        self.payments[pid] = _Payment(
            customer_id, payment_method_id, amount_cents, tags, PaymentStatus.OTHER
        )
        self.by_key[idempotency_key] = pid
        if confirm:
            self._confirm(pid, off_session=off_session)
        return self._view(pid)

    def _confirm(self, pid: str, *, off_session: bool) -> None:
        p = self.payments[pid]
        if p.status != PaymentStatus.OTHER:
            return
        if off_session and self.declining:
            p.status, p.decline_code = PaymentStatus.REQUIRES_PAYMENT_METHOD, "card_declined"
        else:
            p.status = PaymentStatus.SUCCEEDED

    def confirm_payment(self, payment_id: str) -> Payment:
        self._confirm(payment_id, off_session=False)
        return self._view(payment_id)

    def retrieve_payment(self, payment_id: str) -> Payment:
        return self._view(payment_id)

    def card_last4(self, payment_method_id: str) -> str | None:
        return "4242" if payment_method_id in self.cards else None

    def find_payment(self, *, customer_id: str, tags: PaymentTags) -> Payment | None:
        for pid, p in self.payments.items():
            if p.customer_id == customer_id and p.tags == tags:
                return self._view(pid)
        return None

    def refund(self, *, payment_id: str, amount_cents: int, idempotency_key: str) -> RefundResult:
        if idempotency_key in self.by_key:
            previous = self.by_key[idempotency_key]
            assert isinstance(previous, RefundResult)
            return previous
        p = self.payments.get(payment_id)
        if p is None or p.status != PaymentStatus.SUCCEEDED or amount_cents <= 0:
            self.refused.append(f"refund of {amount_cents} on {payment_id}: invalid")
            return RefundResult(id="", ok=False, amount_cents=0, decline_code="invalid_request")
        if amount_cents > p.amount_cents - p.refunded_cents:
            self.refused.append(f"refund of {amount_cents} on {payment_id}: more than is left")
            return RefundResult(id="", ok=False, amount_cents=0, decline_code="amount_too_large")
        p.refunded_cents += amount_cents
        result = RefundResult(id=self._id("re"), ok=True, amount_cents=amount_cents)
        self.by_key[idempotency_key] = result
        return result

    def find_refund(self, *, payment_id: str, idempotency_key: str) -> RefundResult | None:
        previous = self.by_key.get(idempotency_key)
        return previous if isinstance(previous, RefundResult) else None

    def parse_event(self, payload: bytes, signature: str | None) -> PaymentEvent:
        # Events are handed to the services already parsed (`books.deliver`).
        raise WebhookRejected("the fake signs no webhooks")

    # ------------------------------------------------------------------ browser and provider

    def browser_confirms_setup(self, client_secret: str) -> None:
        setup_id = client_secret.split("_secret_")[0]
        card = self._id("pm")
        self.cards[card] = None
        self.setups[setup_id] = replace(
            self.setups[setup_id], payment_method_id=card, succeeded=True
        )

    def ledger(self) -> dict[str, Charge]:
        return {
            pid: Charge(p.amount_cents, p.refunded_cents)
            for pid, p in self.payments.items()
            if p.status == PaymentStatus.SUCCEEDED
        }

    def decline_saved_cards(self, decline: bool) -> None:
        self.declining = decline
