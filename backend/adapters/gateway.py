"""The payment gateway's interface, as the services see it (Stripe's model).

One checkout session per order, with an expiry; the gateway keeps the card and gives back a
token; it confirms through signed webhooks (`backend/api/gateway_webhook.py`). The local
implementation used in demo and tests lives in `backend/adapters/local_gateway.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class CheckoutSession:
    id: str  # the gateway's id, stored on the order
    url: str  # where the parent pays (the short link /p/<token> leads here)


@dataclass(frozen=True)
class ChargeResult:
    ok: bool
    charge_id: str | None
    decline_code: str | None = None  # "card_declined", …


class PaymentGateway(Protocol):
    def create_checkout(
        self,
        *,
        order_id: int,
        amount_cents: int,
        expires_at: datetime,
        save_card: bool,
        idempotency_key: str,
    ) -> CheckoutSession: ...

    def charge_saved_card(
        self, *, card_token: str, amount_cents: int, idempotency_key: str
    ) -> ChargeResult: ...

    def refund(
        self, *, charge_id: str, amount_cents: int, idempotency_key: str
    ) -> ChargeResult: ...
