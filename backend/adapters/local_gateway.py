"""A local stand-in for a Stripe-like payment gateway (demo and tests).

It behaves like the real thing where the backend can tell the difference:
- one checkout session per order, with an expiry; the parent pays on a hosted page
  (`/p/<token>`, served by `backend/api/pay.py`);
- the card number never leaves the form handler: the gateway keeps a TOKEN (and the last 4
  digits), never the number, and everything it issues (session ids, card tokens, charge ids)
  is a self-contained HMAC-signed value, so a restart of the backend loses nothing;
- it confirms through a signed webhook delivered over real HTTP to `POST /api/gateway/webhook`
  (header `X-Gateway-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`), retried on failure,
  and the backend must handle it idempotently.

Test cards: 4242 4242 4242 4242 is approved; 4000 0000 0000 0002 is declined;
4000 0000 0000 0341 is approved now but every later charge of its saved card is declined
(how a second installment fails in the tests and the demo).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import httpx

from backend.adapters.clock import Clock

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Gateway-Signature"
TOLERANCE_SECONDS = 300

CARD_APPROVED = "4242424242424242"
CARD_DECLINED = "4000000000000002"
CARD_DECLINES_LATER = "4000000000000341"


def _unix(instant: datetime) -> int:
    return int(instant.replace(tzinfo=UTC).timestamp())


def sign_payload(body: bytes, secret: str, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_signature(body: bytes, header: str | None, secret: str, now: datetime) -> bool:
    """True when `header` signs exactly `body` with `secret` and is not stale."""
    if not header or not secret:
        return False
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        key, _sep, value = part.strip().partition("=")
        fields.setdefault(key, []).append(value)
    try:
        timestamp = int(fields["t"][0])
    except (KeyError, ValueError, IndexError):
        return False
    if abs(_unix(now) - timestamp) > TOLERANCE_SECONDS:
        return False
    expected = sign_payload(body, secret, timestamp).split("v1=", 1)[1]
    return any(hmac.compare_digest(expected, given) for given in fields.get("v1", []))


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str


@dataclass(frozen=True)
class ChargeResult:
    ok: bool
    charge_id: str | None
    decline_code: str | None = None


@dataclass(frozen=True)
class CardCheck:
    ok: bool
    number: str = ""
    field: str | None = None  # "number" | "expiry" | "cvc" when the form is not valid


def check_card(number: str, expiry: str, cvc: str, today: date) -> CardCheck:
    """Form checks a real gateway would do before even trying the card."""
    digits = "".join(c for c in number if c.isdigit())
    if (
        len(digits) < 13
        or len(digits) > 19
        or not _luhn(digits)
        or len(digits) != len("".join(c for c in number if not c.isspace() and c != "-"))
    ):
        return CardCheck(False, field="number")
    month_year = expiry.replace(" ", "").replace("-", "/")
    try:
        month_text, year_text = month_year.split("/")
        month, year = int(month_text), int(year_text)
    except ValueError:
        return CardCheck(False, field="expiry")
    year += 2000 if year < 100 else 0
    if not 1 <= month <= 12 or (year, month) < (today.year, today.month) or year > today.year + 20:
        return CardCheck(False, field="expiry")
    if not (cvc.isdigit() and len(cvc) in (3, 4)):
        return CardCheck(False, field="cvc")
    return CardCheck(True, number=digits)


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


@dataclass(frozen=True)
class HostedPayment:
    """What happened on the hosted page: the event to deliver, and what to tell the parent."""

    approved: bool
    event: dict[str, Any]
    decline_code: str | None = None


Deliver = Callable[[bytes, dict[str, str]], Awaitable[int]]


class LocalGateway:
    """The PaymentGateway protocol, plus what the hosted page and the webhook sender need."""

    def __init__(
        self,
        *,
        secret: str,
        webhook_secret: str,
        webhook_url: str,
        clock: Clock,
        deliver: Deliver | None = None,
        retries: int = 5,
        retry_delay: float = 1.0,
    ) -> None:
        self._secret = secret.encode()
        self._webhook_secret = webhook_secret
        self._webhook_url = webhook_url
        self._clock = clock
        self._deliver = deliver or self._deliver_http
        self._retries = retries
        self._retry_delay = retry_delay
        self._background: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------ signed values

    def _mac(self, text: str, length: int = 16) -> str:
        return hmac.new(self._secret, text.encode(), hashlib.sha256).hexdigest()[:length]

    def _signed(self, prefix: str, *fields: object) -> str:
        body = "_".join(str(f) for f in fields)
        return f"{prefix}_{body}_{self._mac(prefix + body)}"

    def _open(self, prefix: str, value: str) -> list[str] | None:
        parts = value.split("_")
        if len(parts) < 3 or parts[0] != prefix:
            return None
        body = "_".join(parts[1:-1])
        if not hmac.compare_digest(parts[-1], self._mac(prefix + body)):
            return None
        return parts[1:-1]

    # ------------------------------------------------------------------ PaymentGateway

    def create_checkout(
        self,
        *,
        order_id: int,
        amount_cents: int,
        expires_at: datetime,
        save_card: bool,
        idempotency_key: str,
    ) -> CheckoutSession:
        # Same inputs -> same session (the idempotency key's job at a real gateway).
        nonce = hashlib.sha256(idempotency_key.encode()).hexdigest()[:6]
        session_id = self._signed(
            "cs", order_id, amount_cents, _unix(expires_at), int(save_card), nonce
        )
        return CheckoutSession(id=session_id, url="")

    def describe_checkout(self, session_id: str) -> dict[str, int | bool] | None:
        """The amount, expiry and card-saving flag a session was created with (None if forged)."""
        fields = self._open("cs", session_id)
        if fields is None or len(fields) != 5:
            return None
        order_id, amount, expires, save, _nonce = fields
        return {
            "order_id": int(order_id),
            "amount_cents": int(amount),
            "expires_unix": int(expires),
            "save_card": save == "1",
        }

    def charge_saved_card(
        self, *, card_token: str, amount_cents: int, idempotency_key: str
    ) -> ChargeResult:
        fields = self._open("tok", card_token)
        if fields is None or len(fields) != 3:
            return ChargeResult(ok=False, charge_id=None, decline_code="invalid_token")
        _last4, behaviour, _nonce = fields
        if behaviour != "ok":
            return ChargeResult(ok=False, charge_id=None, decline_code="card_declined")
        return ChargeResult(ok=True, charge_id=self._charge_id(idempotency_key, amount_cents))

    def refund(self, *, charge_id: str, amount_cents: int, idempotency_key: str) -> ChargeResult:
        if self._open("ch", charge_id) is None:
            return ChargeResult(ok=False, charge_id=None, decline_code="unknown_charge")
        return ChargeResult(ok=True, charge_id=self._signed("re", self._nonce(idempotency_key)))

    def _nonce(self, key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()[:10]

    def _charge_id(self, key: str, amount_cents: int) -> str:
        return self._signed("ch", amount_cents, self._nonce(key))

    # ------------------------------------------------------------------ hosted page

    def pay_hosted(
        self, *, session_id: str, card_number: str, amount_cents: int, save_card: bool
    ) -> HostedPayment:
        """Try the card (already checked for shape) on a checkout session; build the event."""
        event_id = "evt_" + secrets.token_hex(12)
        created = _unix(self._clock.now())
        if card_number == CARD_DECLINED:
            return HostedPayment(
                approved=False,
                decline_code="card_declined",
                event={
                    "id": event_id,
                    "type": "checkout.failed",
                    "created": created,
                    "data": {"session_id": session_id, "decline_code": "card_declined"},
                },
            )
        last4 = card_number[-4:]
        behaviour = "decl" if card_number == CARD_DECLINES_LATER else "ok"
        token = self._signed("tok", last4, behaviour, secrets.token_hex(4)) if save_card else None
        charge_id = self._charge_id(f"{session_id}:{event_id}", amount_cents)
        return HostedPayment(
            approved=True,
            event={
                "id": event_id,
                "type": "checkout.completed",
                "created": created,
                "data": {
                    "session_id": session_id,
                    "charge_id": charge_id,
                    "amount_cents": amount_cents,
                    "card_token": token,
                    "card_last4": last4,
                },
            },
        )

    # ------------------------------------------------------------------ webhooks

    def signed_request(self, event: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(event, separators=(",", ":")).encode()
        header = sign_payload(body, self._webhook_secret, _unix(self._clock.now()))
        return body, {"Content-Type": "application/json", SIGNATURE_HEADER: header}

    async def _deliver_http(self, body: bytes, headers: dict[str, str]) -> int:
        async with httpx.AsyncClient(timeout=10.0) as client:
            response = await client.post(self._webhook_url, content=body, headers=headers)
            return response.status_code

    async def deliver(self, event: dict[str, Any]) -> bool:
        """Deliver now; if the backend does not acknowledge, keep retrying in the background."""
        if await self._attempt(event):
            return True
        task = asyncio.create_task(self._retry(event))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return False

    async def _attempt(self, event: dict[str, Any]) -> bool:
        body, headers = self.signed_request(event)  # signed at send time, like a real gateway
        try:
            status = await self._deliver(body, headers)
        except Exception:  # noqa: BLE001 - network errors are retried like any non-2xx
            log.warning("gateway: webhook %s not delivered", event.get("id"), exc_info=True)
            return False
        return 200 <= status < 300

    async def _retry(self, event: dict[str, Any]) -> None:
        for attempt in range(self._retries):
            await asyncio.sleep(self._retry_delay * (2**attempt))
            if await self._attempt(event):
                return
        log.error("gateway: webhook %s abandoned after retries", event.get("id"))

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
