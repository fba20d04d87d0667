"""The money scenarios' gateway for the contract run: the Stripe adapter against the test
run's localstripe process, plus what a scenario plays around it (`TestableGateway`).

Everything the backend calls goes to localstripe through the adapter unchanged; only the
scenario's own moves are played here: the browser's card step (localstripe's Stripe.js
request), the provider's ledger read back from localstripe, and "saved cards now decline"
(an off-session payment then uses a card localstripe declines at charge, attached to the same
customer, as a card that expired or was reported lost would).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from localstripe_process import browser_confirms_setup, card_on_file, refunds_of, shared

from backend.adapters.gateway import (
    CardSetup,
    Payment,
    PaymentEvent,
    PaymentStatus,
    PaymentTags,
    RefundResult,
)
from backend.adapters.stripe_gateway import StripeGateway
from tests.integration.core.helpers import CARD_APPROVED, CARD_DECLINES_LATER
from tests.integration.money.fake_gateway import Charge


@dataclass
class LocalStripeBooks:
    stripe: StripeGateway
    payment_ids: list[str] = field(default_factory=list)
    declining: bool = False

    # ------------------------------------------------------------------ the port, unchanged

    def ensure_customer(self, *, family_id: int, idempotency_key: str) -> str:
        return self.stripe.ensure_customer(family_id=family_id, idempotency_key=idempotency_key)

    def create_card_setup(self, *, customer_id: str, idempotency_key: str) -> CardSetup:
        return self.stripe.create_card_setup(
            customer_id=customer_id, idempotency_key=idempotency_key
        )

    def retrieve_card_setup(self, setup_id: str) -> CardSetup:
        return self.stripe.retrieve_card_setup(setup_id)

    def attach_card(self, *, payment_method_id: str, customer_id: str) -> None:
        self.stripe.attach_card(payment_method_id=payment_method_id, customer_id=customer_id)

    def detach_card(self, *, payment_method_id: str) -> None:
        self.stripe.detach_card(payment_method_id=payment_method_id)

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
        if off_session and self.declining:
            payment_method_id = card_on_file(shared(), customer_id, CARD_DECLINES_LATER)
        payment = self.stripe.create_payment(
            customer_id=customer_id,
            payment_method_id=payment_method_id,
            amount_cents=amount_cents,
            tags=tags,
            idempotency_key=idempotency_key,
            confirm=confirm,
            off_session=off_session,
        )
        self.payment_ids.append(payment.id)
        return payment

    def confirm_payment(self, payment_id: str) -> Payment:
        return self.stripe.confirm_payment(payment_id)

    def retrieve_payment(self, payment_id: str) -> Payment:
        return self.stripe.retrieve_payment(payment_id)

    def card_last4(self, payment_method_id: str) -> str | None:
        return self.stripe.card_last4(payment_method_id)

    def find_payment(self, *, customer_id: str, tags: PaymentTags) -> Payment | None:
        return self.stripe.find_payment(customer_id=customer_id, tags=tags)

    def refund(self, *, payment_id: str, amount_cents: int, idempotency_key: str) -> RefundResult:
        return self.stripe.refund(
            payment_id=payment_id, amount_cents=amount_cents, idempotency_key=idempotency_key
        )

    def find_refund(self, *, payment_id: str, idempotency_key: str) -> RefundResult | None:
        return self.stripe.find_refund(payment_id=payment_id, idempotency_key=idempotency_key)

    def parse_event(self, payload: bytes, signature: str | None) -> PaymentEvent:
        return self.stripe.parse_event(payload, signature)

    # ------------------------------------------------------------------ the scenario's moves

    def browser_confirms_setup(self, client_secret: str) -> None:
        status, body = browser_confirms_setup(shared(), client_secret, CARD_APPROVED)
        assert status == 200, body

    def ledger(self) -> dict[str, Charge]:
        out: dict[str, Charge] = {}
        for pid in dict.fromkeys(self.payment_ids):
            payment = self.stripe.retrieve_payment(pid)
            if payment.status == PaymentStatus.SUCCEEDED:
                out[pid] = Charge(payment.amount_cents, sum(refunds_of(shared(), pid)))
        return out

    def decline_saved_cards(self, decline: bool) -> None:
        self.declining = decline
