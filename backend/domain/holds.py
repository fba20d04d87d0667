"""Deadlines of holds and offers (all naive UTC instants from the Clock). A deadline is over from
its very instant on (a hold "until 19:20" is gone at 19:20): the services' SQL says `<= now`."""

from __future__ import annotations

from datetime import datetime, timedelta

DEFAULT_HOLD_MINUTES = 20
DEFAULT_OFFER_HOURS = 48


def hold_expires_at(now: datetime, hold_minutes: int = DEFAULT_HOLD_MINUTES) -> datetime:
    return now + timedelta(minutes=hold_minutes)


def offer_expires_at(now: datetime, offer_hours: int = DEFAULT_OFFER_HOURS) -> datetime:
    return now + timedelta(hours=offer_hours)


def extended(current: datetime | None, until: datetime) -> datetime:
    """Checkout extends a hold to the payment link's expiry; never shortens it."""
    return until if current is None or current < until else current
