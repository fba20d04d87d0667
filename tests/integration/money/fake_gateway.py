"""An in-process fake of the gateway port, keeping the provider's side of the books.

It behaves as the provider does where money is concerned: a checkout session is paid by a
charge of the session's amount; a create with an idempotency key already used returns what the
first one did; a refund larger than what is left on its charge is refused; a saved card can be
made to decline. It also answers what a contract test needs of any gateway: every charge with
what was refunded of it (`ledger`), and "the parent paid this session" (`pay`), so the same
scenarios run against it and against a real provider's test server.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from backend.adapters.gateway import ChargeResult, CheckoutSession, PaymentGateway


@dataclass(frozen=True)
class Capture:
    """What the gateway's confirmation says: a session was paid by a charge."""

    event_id: str
    session_id: str
    charge_id: str
    card_token: str | None
    card_last4: str | None
    amount_cents: int


@dataclass
class Charge:
    amount_cents: int
    refunded_cents: int = 0


class TestableGateway(PaymentGateway, Protocol):
    """The port, plus what a test plays on the provider's side."""

    def pay(self, session_id: str, *, save_card: bool) -> Capture: ...

    def ledger(self) -> dict[str, Charge]: ...

    def decline_saved_cards(self, decline: bool) -> None: ...


@dataclass
class _CheckoutSession:
    order_id: int
    amount_cents: int
    expires_at: datetime
    save_card: bool


@dataclass
class FakeGateway:
    sessions: dict[str, _CheckoutSession] = field(default_factory=dict)
    charges: dict[str, Charge] = field(default_factory=dict)
    by_key: dict[str, object] = field(default_factory=dict)
    declining: bool = False
    # Refunds a real provider would refuse: never asked by correct books.
    refused: list[str] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def _id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids)}"

    # ------------------------------------------------------------------ the port

    def create_checkout(
        self,
        *,
        order_id: int,
        amount_cents: int,
        expires_at: datetime,
        save_card: bool,
        idempotency_key: str,
    ) -> CheckoutSession:
        if idempotency_key in self.by_key:
            previous = self.by_key[idempotency_key]
            assert isinstance(previous, CheckoutSession)
            return previous
        sid = self._id("cs")
        self.sessions[sid] = _CheckoutSession(order_id, amount_cents, expires_at, save_card)
        session = CheckoutSession(id=sid, url=f"https://pay.example/{sid}")
        self.by_key[idempotency_key] = session
        return session

    def charge_saved_card(
        self, *, card_token: str, amount_cents: int, idempotency_key: str
    ) -> ChargeResult:
        if idempotency_key in self.by_key:
            previous = self.by_key[idempotency_key]
            assert isinstance(previous, ChargeResult)
            return previous
        if self.declining:
            result = ChargeResult(ok=False, charge_id=None, decline_code="card_declined")
        else:
            charge_id = self._id("ch")
            self.charges[charge_id] = Charge(amount_cents)
            result = ChargeResult(ok=True, charge_id=charge_id)
        self.by_key[idempotency_key] = result
        return result

    def refund(self, *, charge_id: str, amount_cents: int, idempotency_key: str) -> ChargeResult:
        if idempotency_key in self.by_key:
            previous = self.by_key[idempotency_key]
            assert isinstance(previous, ChargeResult)
            return previous
        charge = self.charges.get(charge_id)
        if charge is None or amount_cents <= 0:
            self.refused.append(f"refund of {amount_cents} on {charge_id}: invalid")
            return ChargeResult(ok=False, charge_id=None, decline_code="invalid_request")
        if amount_cents > charge.amount_cents - charge.refunded_cents:
            self.refused.append(f"refund of {amount_cents} on {charge_id}: more than is left")
            return ChargeResult(ok=False, charge_id=None, decline_code="amount_too_large")
        charge.refunded_cents += amount_cents
        result = ChargeResult(ok=True, charge_id=self._id("re"))
        self.by_key[idempotency_key] = result
        return result

    # ------------------------------------------------------------------ the provider's side

    def pay(self, session_id: str, *, save_card: bool) -> Capture:
        """The parent paid the session with a valid card (each call is a new charge)."""
        session = self.sessions[session_id]
        charge_id = self._id("ch")
        self.charges[charge_id] = Charge(session.amount_cents)
        keep = save_card and session.save_card
        return Capture(
            event_id=self._id("evt"),
            session_id=session_id,
            charge_id=charge_id,
            card_token=f"tok_{charge_id}" if keep else None,
            card_last4="4242" if keep else None,
            amount_cents=session.amount_cents,
        )

    def ledger(self) -> dict[str, Charge]:
        return {k: Charge(v.amount_cents, v.refunded_cents) for k, v in self.charges.items()}

    def decline_saved_cards(self, decline: bool) -> None:
        self.declining = decline
