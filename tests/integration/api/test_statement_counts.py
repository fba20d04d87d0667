"""Statement budgets of the hot routes: an N+1 query (one statement per cart line, per week,
per relation) or a scan per request must not come back unnoticed.

Julie's registration night runs route by route against the demo city (route_walk.py) and the
statements the engine sent for each request are counted through SQLAlchemy's events. Counts,
not timings: they do not depend on how loaded the machine is. SQLite counts its explicit BEGIN
and one INSERT per new row (its RETURNING order is not guaranteed, so SQLAlchemy does not batch
them); the budgets below hold on both databases. Registration night in numbers:
docs/BENCHMARKS.md.
"""

from __future__ import annotations

from api_harness import Backend
from route_walk import walk

# Route -> most statements one request may send (both transactions when a route has two).
# Every cart change counts one statement for the waiting room's guard (is a rush of the season
# running? docs/ARCHITECTURE.md "The waiting room"). A reservation reads its weeks with their
# options in one statement and its family with the locked child; a cart with lines is read
# without a separate family lookup (docs/BENCHMARKS.md, registration night).
BUDGETS = {
    "POST /api/identify/start": 6,
    "POST /api/identify/phone": 7,
    "POST /api/identify/widget": 7,
    "GET /api/family": 8,
    "GET /api/season": 3,
    "GET /api/catalog": 12,
    "GET /api/catalog/availability": 9,
    "GET /api/catalog/eligible": 13,
    "GET /api/cart (empty)": 3,
    "POST /api/cart/lines (1 week)": 12,
    "GET /api/cart (1 line)": 3,
    "POST /api/cart/lines (2 weeks, garde)": 16,
    "POST /api/cart/lines (2 weeks, velo)": 16,
    "GET /api/cart (5 lines)": 3,
    "POST /api/cart/lines (full week, waitlist)": 12,
    "GET /api/cart (6 lines, 1 waiting)": 4,
    "GET /api/checkout/terms": 4,
    "PATCH /api/cart/lines/{id}": 8,
    "DELETE /api/cart/lines/{id}": 16,
    "POST /api/checkout": 21,
    "GET /api/orders/{id}": 6,
}


async def test_hot_routes_stay_within_their_statement_budget(city: Backend) -> None:
    steps = await walk(city)
    assert [label for label, *_ in steps] == list(BUDGETS)
    over = []
    for label, log, _ms, status in steps:
        assert status in (200, 201), f"{label}: {status}"
        if log.count > BUDGETS[label]:
            over.append(f"{label}: {log.count} > {BUDGETS[label]}\n{log.summary()}")
    assert not over, "\n\n".join(over)


async def test_the_cart_costs_the_same_whatever_its_number_of_lines(city: Backend) -> None:
    counts = {label: log.count for label, log, _ms, _status in await walk(city)}
    # One line or five, with options and a waitlist rank: the same statements, not one more
    # per line (the rank of every waiting line comes in one statement).
    assert counts["GET /api/cart (5 lines)"] == counts["GET /api/cart (1 line)"]
    assert counts["GET /api/cart (6 lines, 1 waiting)"] <= counts["GET /api/cart (1 line)"] + 1
    # The terms read the cart's lines with what pricing needs, also in a fixed number.
    assert counts["GET /api/checkout/terms"] <= counts["GET /api/cart (1 line)"] + 1
