"""Prices: a session costs the resident or non-resident price; a line costs its week plus each
chosen option's weekly price."""

from __future__ import annotations

from collections.abc import Iterable


def session_price(
    *, resident: bool, price_resident_cents: int, price_nonresident_cents: int
) -> int:
    return price_resident_cents if resident else price_nonresident_cents



def line_price(base_price_cents: int, option_prices_cents: Iterable[int]) -> int:
    """One line (a week or a session): its base price plus each chosen option's price."""
    return base_price_cents + sum(option_prices_cents)
