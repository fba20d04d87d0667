"""The payment gateway's port, as the services see it: small, provider-neutral, synchronous.

Amounts are integer cents (CAD); every value that crosses the port is one of the dataclasses
below, never a provider object. The Stripe adapter (`backend.adapters.stripe_gateway`) is the
production implementation; tests may use an in-process fake that keeps the same contract.

The flow the port serves:
- the hosted page asks for a card setup (a SetupIntent at Stripe) for the order's customer; the
  provider's script collects the card in the parent's browser, so no card number reaches us;
- the server attaches the resulting payment method to the customer, creates a payment, stores
  its id, then confirms it; `requires_action` sends the page to the card's 3-D Secure step;
- a second installment is an off-session payment with the saved payment method;
- refunds name the payment and the exact amount, and carry our key so that a retry finds a
  refund whose answer was lost (`find_refund`);
- webhooks are verified and parsed into `PaymentEvent` (`parse_event`).

Every create carries an idempotency key, but a provider may ignore it (localstripe does): the
services store the payment id per (installment, attempt) before confirming, and a retry calls
`retrieve_payment` instead of creating another payment; when the id itself was lost (the
create's answer never came), `find_payment` finds the payment by the tags written on it.

Calls block on the network: services never make them inside a database transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class PaymentStatus(StrEnum):
    SUCCEEDED = "succeeded"
    REQUIRES_ACTION = "requires_action"  # the page must run the card's authentication step
    REQUIRES_PAYMENT_METHOD = "requires_payment_method"  # declined: another card is needed
    PROCESSING = "processing"
    CANCELED = "canceled"
    OTHER = "other"  # anything else the provider reports (requires_confirmation, …)


class EventKind(StrEnum):
    PAYMENT_SUCCEEDED = "payment_succeeded"
    PAYMENT_FAILED = "payment_failed"
    OTHER = "other"  # verified, but nothing our state depends on


@dataclass(frozen=True)
class PaymentTags:
    """What we attach to every payment (Stripe metadata) to find it again from a webhook."""

    order_id: int
    installment_id: int
    attempt: int


@dataclass(frozen=True)
class CardSetup:
    """A card-collection session for the hosted page (the client secret goes to the browser)."""

    id: str
    client_secret: str
    customer_id: str
    payment_method_id: str | None = None  # set once the browser confirmed the setup
    succeeded: bool = False


@dataclass(frozen=True)
class Payment:
    id: str
    status: PaymentStatus
    amount_cents: int
    client_secret: str | None = None  # for the page's authentication step only
    payment_method_id: str | None = None
    decline_code: str | None = None  # "card_declined", "insufficient_funds", …
    tags: PaymentTags | None = None  # None: not one of ours (another app on the account)
    foreign_app: bool = False  # tagged, but by another application on the same account
    card_last4: str | None = None  # the card's last four digits, once asked (`card_last4`)


@dataclass(frozen=True)
class RefundResult:
    id: str
    ok: bool  # succeeded or pending at the provider; False: refused
    amount_cents: int
    decline_code: str | None = None


@dataclass(frozen=True)
class PaymentEvent:
    """A verified webhook event, reduced to what the services act on."""

    id: str  # the provider's event id: the dedup key
    kind: EventKind
    created: int  # unix seconds, from the provider
    payment: Payment | None = None  # for PAYMENT_* kinds


class GatewayError(Exception):
    """The provider could not be reached or refused a request outright (not a card decline).

    `kind` is a short stable label safe to log (never a card detail); `retryable` says whether
    the same call may succeed later (network, rate limit) or not (invalid request)."""

    def __init__(self, kind: str, *, retryable: bool) -> None:
        super().__init__(kind)
        self.kind = kind[:40]
        self.retryable = retryable


class CardDeclined(Exception):
    """The provider refused to keep the card (at attach); `code` is its short decline label."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code[:40]


class WebhookRejected(Exception):
    """A webhook body whose signature does not verify (forged, altered or stale)."""


class PaymentGateway(Protocol):
    def ensure_customer(self, *, family_id: int, idempotency_key: str) -> str:
        """A provider customer for this family; returns its id (stored by the caller)."""
        ...

    def create_card_setup(self, *, customer_id: str, idempotency_key: str) -> CardSetup: ...

    def retrieve_card_setup(self, setup_id: str) -> CardSetup: ...

    def attach_card(self, *, payment_method_id: str, customer_id: str) -> None:
        """Keep the card on the customer; raises CardDeclined when the provider refuses it."""
        ...

    def detach_card(self, *, payment_method_id: str) -> None: ...

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
        """Create a payment for a saved card.

        On the hosted page, `confirm=False`: the caller stores the id, commits, then calls
        `confirm_payment`, so a crash never leaves money taken without a record. Off-session
        (a later installment), `confirm=True, off_session=True` in one call. A decline comes
        back as a Payment with `REQUIRES_PAYMENT_METHOD` and a decline code, not an exception."""
        ...

    def confirm_payment(self, payment_id: str) -> Payment: ...

    def retrieve_payment(self, payment_id: str) -> Payment: ...

    def card_last4(self, payment_method_id: str) -> str | None:
        """The last four digits of a card, for « carte se terminant par 4242 » (the provider
        keeps the card; the digits alone identify nothing)."""
        ...

    def find_payment(self, *, customer_id: str, tags: PaymentTags) -> Payment | None:
        """The customer's payment carrying `tags`, if the provider has one: an attempt whose
        create call's answer was lost asks this before creating again (a provider that
        ignores idempotency keys would otherwise charge twice)."""
        ...

    def refund(self, *, payment_id: str, amount_cents: int, idempotency_key: str) -> RefundResult:
        """Give back exactly `amount_cents` of a succeeded payment (the key written on it)."""
        ...

    def find_refund(self, *, payment_id: str, idempotency_key: str) -> RefundResult | None:
        """The refund of `payment_id` made under `idempotency_key`, if the provider made one:
        a retry whose first answer was lost asks this first (a provider may ignore the key)."""
        ...

    def parse_event(self, payload: bytes, signature: str | None) -> PaymentEvent:
        """Verify the raw body's signature (wall-clock tolerance) and parse it.

        Raises WebhookRejected when the signature does not verify."""
        ...
