"""Prices: a session costs the resident or non-resident price; a line costs its week plus each
chosen option's weekly price, summed where the lines are read (the services)."""

from __future__ import annotations


def session_price(
    *, resident: bool, price_resident_cents: int, price_nonresident_cents: int
) -> int:
    return price_resident_cents if resident else price_nonresident_cents

