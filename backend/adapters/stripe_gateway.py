"""The payment gateway port over Stripe's official library (`stripe`).

The API base is configurable: production talks to api.stripe.com, the demo and the tests to a
localstripe process on 127.0.0.1. Nothing here ever sees a card number: the browser gives the
card to Stripe.js, and we only handle payment-method ids.

Every payment carries our metadata (`app`, `order_id`, `installment_id`, `attempt`) so that a
webhook finds its installment again, and so that payments of other applications sharing the
city's Stripe account are recognised and left alone.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import stripe

from backend.adapters.gateway import (
    CardDeclined,
    CardSetup,
    EventKind,
    GatewayError,
    Payment,
    PaymentEvent,
    PaymentStatus,
    PaymentTags,
    RefundResult,
    WebhookRejected,
)

log = logging.getLogger(__name__)

CURRENCY = "cad"
WEBHOOK_TOLERANCE_SECONDS = 300  # checked against the wall clock by the library, never the demo's

_EVENT_KINDS = {
    "payment_intent.succeeded": EventKind.PAYMENT_SUCCEEDED,
    "payment_intent.payment_failed": EventKind.PAYMENT_FAILED,
}


def _status(value: object) -> PaymentStatus:
    try:
        return PaymentStatus(str(value))
    except ValueError:
        return PaymentStatus.OTHER


def _get(obj: Any, key: str) -> Any:
    """A field of a Stripe object or of a plain dict from a webhook body (None when absent)."""
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(key)
    try:
        return obj[key]
    except (KeyError, AttributeError):
        return None


def _id(value: Any) -> str | None:
    """An id field that may be expanded into an object."""
    if value is None or isinstance(value, str):
        return value
    found = _get(value, "id")
    return found if isinstance(found, str) else None


def _gateway_error(error: stripe.StripeError) -> GatewayError:
    retryable = isinstance(
        error, (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError)
    )
    kind = type(error).__name__
    return GatewayError(kind, retryable=retryable)


class StripeGateway:
    """PaymentGateway over a `stripe.StripeClient`."""

    def __init__(
        self,
        *,
        secret_key: str,
        webhook_secret: str,
        app_name: str,
        api_base: str | None = None,
        max_network_retries: int = 2,
    ) -> None:
        addresses: dict[str, str] = {}
        if api_base:
            addresses = {"api": api_base.rstrip("/")}
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses=addresses,  # type: ignore[arg-type]
            max_network_retries=max_network_retries,
        )
        self._webhook_secret = webhook_secret
        self._app = app_name

    # ------------------------------------------------------------------ conversions

    def _tags(self, metadata: Any) -> tuple[PaymentTags | None, bool]:
        """Our tags from a payment's metadata, and whether another application tagged it."""
        if not metadata:
            return None, False
        app = _get(metadata, "app")
        if app is None:
            return None, False
        if app != self._app:
            return None, True
        try:
            return (
                PaymentTags(
                    order_id=int(_get(metadata, "order_id")),
                    installment_id=int(_get(metadata, "installment_id")),
                    attempt=int(_get(metadata, "attempt")),
                ),
                False,
            )
        except (TypeError, ValueError):
            return None, True

    def _payment(self, intent: Any) -> Payment:
        error = _get(intent, "last_payment_error")
        decline = None
        if error is not None:
            decline = _get(error, "decline_code") or _get(error, "code")
        tags, foreign = self._tags(_get(intent, "metadata"))
        status = _status(_get(intent, "status"))
        return Payment(
            id=str(_get(intent, "id")),
            status=status,
            amount_cents=int(_get(intent, "amount") or 0),
            client_secret=_get(intent, "client_secret")
            if status == PaymentStatus.REQUIRES_ACTION
            else None,
            payment_method_id=_id(_get(intent, "payment_method")),
            decline_code=str(decline) if decline else None,
            tags=tags,
            foreign_app=foreign,
        )

    # ------------------------------------------------------------------ customers and cards

    def ensure_customer(self, *, family_id: int, idempotency_key: str) -> str:
        try:
            customer = self._client.v1.customers.create(
                params={"metadata": {"app": self._app, "family_id": str(family_id)}},
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as error:
            raise _gateway_error(error) from None
        return str(customer.id)

    def create_card_setup(self, *, customer_id: str, idempotency_key: str) -> CardSetup:
        try:
            setup = self._client.v1.setup_intents.create(
                params={
                    "customer": customer_id,
                    "payment_method_types": ["card"],
                    "usage": "off_session",
                    "metadata": {"app": self._app},
                },  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as error:
            raise _gateway_error(error) from None
        return self._setup(setup)

    def retrieve_card_setup(self, setup_id: str) -> CardSetup:
        try:
            setup = self._client.v1.setup_intents.retrieve(setup_id)
        except stripe.StripeError as error:
            raise _gateway_error(error) from None
        return self._setup(setup)

    @staticmethod
    def _setup(setup: Any) -> CardSetup:
        return CardSetup(
            id=str(setup.id),
            client_secret=str(setup.client_secret),
            customer_id=str(_id(_get(setup, "customer")) or ""),
            payment_method_id=_id(_get(setup, "payment_method")),
            succeeded=_get(setup, "status") == "succeeded",
        )

    def attach_card(self, *, payment_method_id: str, customer_id: str) -> None:
        try:
            self._client.v1.payment_methods.attach(
                payment_method_id, params={"customer": customer_id}
            )
        except stripe.CardError as error:
            raise CardDeclined(str(error.code or "card_declined")) from None
        except stripe.StripeError as error:
            raise _gateway_error(error) from None

    def detach_card(self, *, payment_method_id: str) -> None:
        try:
            self._client.v1.payment_methods.detach(payment_method_id)
        except stripe.StripeError as error:
            raise _gateway_error(error) from None

    # ------------------------------------------------------------------ payments

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
        if amount_cents <= 0:
            raise GatewayError("amount_not_positive", retryable=False)
        params: dict[str, Any] = {
            "amount": amount_cents,
            "currency": CURRENCY,
            "customer": customer_id,
            "payment_method": payment_method_id,
            "payment_method_types": ["card"],
            "metadata": {
                "app": self._app,
                "order_id": str(tags.order_id),
                "installment_id": str(tags.installment_id),
                "attempt": str(tags.attempt),
            },
        }
        if confirm:
            params["confirm"] = True
        if off_session:
            params["off_session"] = True
        try:
            intent = self._client.v1.payment_intents.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key},
            )
        except stripe.CardError as error:
            return self._declined(error)
        except stripe.StripeError as error:
            raise _gateway_error(error) from None
        return self._payment(intent)

    def confirm_payment(self, payment_id: str) -> Payment:
        try:
            intent = self._client.v1.payment_intents.confirm(payment_id)
        except stripe.CardError:
            return self.retrieve_payment(payment_id)
        except stripe.StripeError as error:
            raise _gateway_error(error) from None
        return self._payment(intent)

    def _declined(self, error: stripe.CardError) -> Payment:
        """The payment a create-and-confirm call declined. Stripe names it in the error;
        localstripe names only the failed charge, which leads to it."""
        body: Any = error.json_body or {}
        details: dict[str, Any] = dict(body.get("error") or {})
        intent_id = _id(details.get("payment_intent"))
        if intent_id is None and details.get("charge"):
            try:
                charge = self._client.v1.charges.retrieve(str(details["charge"]))
            except stripe.StripeError as failure:
                raise _gateway_error(failure) from None
            intent_id = _id(_get(charge, "payment_intent"))
        if intent_id is None:
            raise GatewayError("declined_without_payment", retryable=False)
        return self.retrieve_payment(intent_id)

    def retrieve_payment(self, payment_id: str) -> Payment:
        try:
            intent = self._client.v1.payment_intents.retrieve(payment_id)
        except stripe.StripeError as error:
            raise _gateway_error(error) from None
        return self._payment(intent)

    def card_last4(self, payment_method_id: str) -> str | None:
        try:
            method = self._client.v1.payment_methods.retrieve(payment_method_id)
        except stripe.StripeError as error:
            raise _gateway_error(error) from None
        last4 = _get(_get(method, "card"), "last4")
        return str(last4)[-4:] if last4 else None

    def find_payment(self, *, customer_id: str, tags: PaymentTags) -> Payment | None:
        want = {
            "app": self._app,
            "order_id": str(tags.order_id),
            "installment_id": str(tags.installment_id),
            "attempt": str(tags.attempt),
        }
        intents = self._client.v1.payment_intents
        try:
            try:
                page = intents.list(params={"customer": customer_id, "limit": 100})
            except stripe.InvalidRequestError:
                # localstripe filters no list by customer: every intent, filtered below.
                page = intents.list(params={"limit": 100})
            for intent in page.auto_paging_iter():
                if _id(_get(intent, "customer")) != customer_id:
                    continue
                metadata = _get(intent, "metadata") or {}
                if all(_get(metadata, key) == value for key, value in want.items()):
                    return self._payment(intent)
        except stripe.StripeError as error:
            raise _gateway_error(error) from None
        return None

    def refund(self, *, payment_id: str, amount_cents: int, idempotency_key: str) -> RefundResult:
        if amount_cents <= 0:
            raise GatewayError("amount_not_positive", retryable=False)
        try:
            refund = self._client.v1.refunds.create(
                params={
                    "payment_intent": payment_id,
                    "amount": amount_cents,
                    "metadata": {"app": self._app, "key": idempotency_key},
                },
                options={"idempotency_key": idempotency_key},
            )
        except stripe.InvalidRequestError as error:
            return RefundResult(
                id="",
                ok=False,
                amount_cents=amount_cents,
                decline_code=str(error.code or "refused"),
            )
        except stripe.StripeError as error:
            raise _gateway_error(error) from None
        return self._refund(refund, amount_cents)

    @staticmethod
    def _refund(refund: Any, amount_cents: int) -> RefundResult:
        status = _get(refund, "status")
        return RefundResult(
            id=str(_get(refund, "id")),
            ok=status in ("succeeded", "pending"),
            amount_cents=int(_get(refund, "amount") or amount_cents),
            decline_code=None if status in ("succeeded", "pending") else str(status),
        )

    def find_refund(self, *, payment_id: str, idempotency_key: str) -> RefundResult | None:
        # A payment is refunded a few times at most (one per cancelled line): one page.
        try:
            found = self._client.v1.refunds.list(
                params={"payment_intent": payment_id, "limit": 100}
            )
        except stripe.StripeError as error:
            raise _gateway_error(error) from None
        for refund in _get(found, "data") or []:
            metadata = _get(refund, "metadata") or {}
            if _get(metadata, "key") == idempotency_key:
                return self._refund(refund, int(_get(refund, "amount") or 0))
        return None

    # ------------------------------------------------------------------ webhooks

    def parse_event(self, payload: bytes, signature: str | None) -> PaymentEvent:
        """Raises WebhookRejected (not signed by our secret, or stale) or ValueError (signed,
        but not an event we can read)."""
        try:
            # The signature first, then the library's own parsing (ValueError: not JSON).
            stripe.Webhook.construct_event(
                payload, signature or "", self._webhook_secret, WEBHOOK_TOLERANCE_SECONDS
            )
        except stripe.SignatureVerificationError:
            raise WebhookRejected from None
        body = json.loads(payload)
        if not isinstance(body, dict):
            raise ValueError("event")
        event_id, created = body.get("id"), body.get("created") or 0
        if not isinstance(event_id, str) or not event_id or len(event_id) > 64:
            raise ValueError("id")
        if not isinstance(created, int):
            raise ValueError("created")
        kind = _EVENT_KINDS.get(str(body.get("type")), EventKind.OTHER)
        payment = None
        if kind != EventKind.OTHER:
            obj = (body.get("data") or {}).get("object")
            if not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
                raise ValueError("data.object")
            if not isinstance(obj.get("amount"), int) or isinstance(obj.get("amount"), bool):
                raise ValueError("amount")
            payment = self._payment(obj)
        return PaymentEvent(id=event_id, kind=kind, created=created, payment=payment)
