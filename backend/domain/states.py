"""The states of families, lines, orders and installments, and which moves between them are legal.

Pure: the ORM (`backend.db.models`) stores these enums by value; the services ask
`check_order_transition` / `check_installment_transition` before any change, so an illegal move
(paying a refunded order, refunding a scheduled installment) is a bug that fails loudly.
"""

from __future__ import annotations

import enum
from typing import Final


class AccountStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    LOCKED = "locked"


class Category(enum.StrEnum):
    DAY_CAMP = "camp_de_jour"
    SWIMMING = "natation"
    SPORT = "sport"


class PaymentMode(enum.StrEnum):
    NORMAL = "normal"
    DEFERRED = "deferred"


class LineStatus(enum.StrEnum):
    HELD = "held"  # in a cart, counts in capacity until hold_expires_at
    WAITLISTED = "waitlisted"  # waiting for a place, counts for nothing, never billed
    OFFERED = "offered"  # a freed place is kept for this family until offer_expires_at
    CONFIRMED = "confirmed"  # paid (or accepted in a deferred season)
    RELEASED = "released"  # hold or offer expired, place given back
    CANCELLED = "cancelled"  # removed by the parent or cancelled by staff


# Lines in these states own a place in their session's pool.
PLACE_HOLDING: Final = frozenset({LineStatus.HELD, LineStatus.OFFERED, LineStatus.CONFIRMED})
# Lines a family still sees in its cart.
IN_CART: Final = frozenset({LineStatus.HELD, LineStatus.WAITLISTED, LineStatus.OFFERED})
# Lines that block a second request for the same child and session.
ACTIVE: Final = IN_CART | {LineStatus.CONFIRMED}


class OrderStatus(enum.StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    PARTIALLY_PAID = "partially_paid"  # first installment captured, second scheduled
    PAID = "paid"
    DEFERRED = "deferred"  # deferred season: taken, nothing charged yet
    EXPIRED = "expired"
    REFUNDED = "refunded"
    CANCELLED = "cancelled"


class InstallmentStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    PAID = "paid"
    FAILED = "failed"
    REFUNDED = "refunded"
    CANCELLED = "cancelled"


class RefundStatus(enum.StrEnum):
    """A refund is recorded (PENDING, its idempotency key with it) and committed before the
    provider is asked; the answer is recorded after."""

    PENDING = "pending"  # recorded; not asked yet, or asked and the answer lost (a job retries)
    SUCCEEDED = "succeeded"  # the provider made it
    FAILED = "failed"  # the provider refused it: for staff (docs/MONEY.md)


class IllegalTransition(Exception):
    """A state change the rules do not allow: a programming error, never a parent's error."""


_O = OrderStatus
ORDER_TRANSITIONS: Final[dict[OrderStatus, frozenset[OrderStatus]]] = {
    _O.AWAITING_PAYMENT: frozenset(
        {_O.PARTIALLY_PAID, _O.PAID, _O.EXPIRED, _O.CANCELLED, _O.REFUNDED}
    ),
    # A deferred season switched to normal sends a payment link: the order then awaits payment.
    _O.DEFERRED: frozenset({_O.AWAITING_PAYMENT, _O.CANCELLED}),
    _O.PARTIALLY_PAID: frozenset({_O.PAID, _O.REFUNDED, _O.CANCELLED}),
    # A late payment on an expired order is either honoured (places free) or refunded; a new
    # link for it, its places still free, makes it await payment again.
    _O.EXPIRED: frozenset({_O.AWAITING_PAYMENT, _O.PARTIALLY_PAID, _O.PAID, _O.REFUNDED}),
    # A payment on an order superseded by a newer checkout is refunded.
    _O.CANCELLED: frozenset({_O.REFUNDED}),
    _O.PAID: frozenset({_O.REFUNDED}),
    _O.REFUNDED: frozenset(),
}

_I = InstallmentStatus
INSTALLMENT_TRANSITIONS: Final[dict[InstallmentStatus, frozenset[InstallmentStatus]]] = {
    _I.SCHEDULED: frozenset({_I.PAID, _I.FAILED, _I.CANCELLED}),
    _I.FAILED: frozenset({_I.PAID, _I.FAILED, _I.CANCELLED}),  # retried through a payment link
    _I.PAID: frozenset({_I.REFUNDED}),
    _I.REFUNDED: frozenset(),
    _I.CANCELLED: frozenset({_I.PAID}),  # a late payment on a superseded order, then refunded
}


def check_order_transition(old: OrderStatus, new: OrderStatus) -> None:
    if old != new and new not in ORDER_TRANSITIONS[old]:
        raise IllegalTransition(f"order {old} -> {new}")


def check_installment_transition(old: InstallmentStatus, new: InstallmentStatus) -> None:
    if old != new and new not in INSTALLMENT_TRANSITIONS[old]:
        raise IllegalTransition(f"installment {old} -> {new}")


def order_status_after_payment(installments: list[InstallmentStatus]) -> OrderStatus:
    """PAID when every installment is paid, PARTIALLY_PAID when some are."""
    paid = sum(1 for s in installments if s == _I.PAID)
    if paid == len(installments):
        return _O.PAID
    if paid:
        return _O.PARTIALLY_PAID
    return _O.AWAITING_PAYMENT
