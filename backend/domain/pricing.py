"""Prices: a session costs the resident or non-resident price; options are priced per week."""

from __future__ import annotations

from collections.abc import Iterable


def session_price(
    *, resident: bool, price_resident_cents: int, price_nonresident_cents: int
) -> int:
    return price_resident_cents if resident else price_nonresident_cents


def line_price(base_cents: int, option_prices_cents: Iterable[int]) -> int:
    """A line (one child, one week) = the week's price + each chosen option's weekly price."""
    return base_cents + sum(option_prices_cents)
