"""A parent cancels a registration (`backend.services.cancellation`, the use case of the
family routes): what the preview announces is what the cancellation does, the refund follows
the policy (the fee kept, nothing within the deadline), the freed place goes to the waitlist,
and the books still add up. On SQLite and PostgreSQL, with the in-process gateway."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.adapters.clock import ManualClock
from backend.db.models import Line
from backend.domain.errors import RegistrationError
from backend.services import cancellation, cart
from tests.integration.core.helpers import Harness, make_harness
from tests.integration.money.books import assert_books, deliver, line_money
from tests.integration.money.fake_gateway import FakeGateway
from tests.integration.money.scenarios import (
    JULIE,
    LEA,
    RIVIERE,
    fill,
    gateway_of,
    hold,
    lines_of,
    order_for,
    order_state,
    pay,
)

EMMA_FAMILY = "100002"
EMMA = ("Emma", "Gagnon")
FEE = 1500


@pytest.fixture
def h(session_factory: sessionmaker[Session], clock: ManualClock) -> Harness:
    harness = make_harness(session_factory, clock)
    harness.gateway = FakeGateway()  # type: ignore[assignment]
    harness.settings = replace(harness.settings, cancellation_fee_cents=FEE)
    return harness


def preview(h: Harness, client: str, line_id: int) -> dict[str, Any]:
    fid = h.family_id(client)
    return h.run(
        lambda db: cancellation.family_outcome(
            db, fid, line_id, clock=h.clock, settings=h.settings
        )
    )


def cancel(h: Harness, client: str, line_id: int) -> dict[str, Any]:
    fid = h.family_id(client)
    return h.run(lambda db: cancellation.family_cancel(db, fid, line_id, **h.deps))


def wait_for(h: Harness, client: str, child: tuple[str, str], session_id: int) -> int:
    """The child joins the full session's waitlist; the new line's id."""
    fid, cid = h.family_id(client), h.child_id(*child)
    result = h.run(
        lambda db: cart.add_lines(
            db,
            fid,
            child_id=cid,
            session_ids=[session_id],
            tshirt_size="M",
            join_waitlist=True,
            **h.deps,
        )
    )
    (entry,) = result["results"]
    assert entry["outcome"] == "waitlisted"
    return int(entry["line_id"])


def refusal(fn: Any) -> str:
    with pytest.raises(RegistrationError) as refused:
        fn()
    return refused.value.code


def two_paid_weeks(h: Harness) -> tuple[int, int, int]:
    """Léa in weeks 2 and 3 (95 $ each), two installments, the first paid; week 3 is full."""
    week2, week3 = (h.camp_session(RIVIERE, "9-12 ans", n) for n in (2, 3))
    hold(h, JULIE, LEA, [week2, week3])
    order_id = order_for(h, JULIE, n=2)
    assert deliver(h, pay(h, order_id, save_card=True))["outcome"] == "paid"
    (line2, _), (line3, _) = lines_of(h, order_id)
    return order_id, line2, line3


def test_a_parent_cancels_one_week_of_two_paid_in_two_installments(h: Harness) -> None:
    order_id, line2, line3 = two_paid_weeks(h)
    week3 = h.camp_session(RIVIERE, "9-12 ans", 3)
    fill(h, week3)
    emma_line = wait_for(h, EMMA_FAMILY, EMMA, week3)

    # Half of week 3's price was paid with the first installment (47,50 $): it comes back
    # less the 15 $ fee; the 47,50 $ still due for it comes off the second installment.
    announced = preview(h, JULIE, line3)
    assert announced["line"]["child"] == "Léa" and announced["line"]["week"] == 3
    assert announced["week_label"].startswith("semaine 3, du ")
    assert (announced["refund_cents"], announced["fee_cents"]) == (4750 - FEE, FEE)
    assert announced["still_due_cancelled_cents"] == 4750
    assert order_state(h, order_id)[1][1] == (2, "scheduled", 9500)  # the preview changed nothing

    done = cancel(h, JULIE, line3)
    assert done["line"]["status"] == "cancelled"
    assert {k: done[k] for k in ("refund_cents", "fee_cents", "still_due_cancelled_cents")} == {
        k: announced[k] for k in ("refund_cents", "fee_cents", "still_due_cancelled_cents")
    }
    assert done["remaining_due"] == [{"seq": 2, "due_on": "2027-05-20", "amount_cents": 4750}]
    assert order_state(h, order_id) == (
        "partially_paid",
        [(1, "paid", 9500), (2, "scheduled", 4750)],
    )
    assert line_money(h, line3) == (4750, 4750 - FEE)
    (charge,) = gateway_of(h).ledger().values()
    assert (charge.amount_cents, charge.refunded_cents) == (9500, 4750 - FEE)
    assert h.notifications("registration_cancelled", h.family_id(JULIE))

    # The freed place is offered to Emma, next on the waitlist.
    assert h.run(lambda db: db.get(Line, emma_line).status.value) == "offered"
    assert h.notifications("waitlist_offer", h.family_id(EMMA_FAMILY))

    # Cancelling again refunds nothing more.
    assert refusal(lambda: cancel(h, JULIE, line3)) == "already_cancelled"
    assert refusal(lambda: preview(h, JULIE, line3)) == "already_cancelled"
    (charge,) = gateway_of(h).ledger().values()
    assert charge.refunded_cents == 4750 - FEE
    assert_books(h, gateway_of(h).ledger())
    h.assert_capacity_exact()
    # Week 2 stays registered.
    assert h.run(lambda db: db.get(Line, line2).status.value) == "confirmed"


def test_another_familys_line_is_not_found_and_a_started_week_cannot_be_cancelled(
    h: Harness,
) -> None:
    order_id, line2, _ = two_paid_weeks(h)
    assert refusal(lambda: preview(h, EMMA_FAMILY, line2)) == "not_found"
    assert refusal(lambda: cancel(h, EMMA_FAMILY, line2)) == "not_found"
    assert refusal(lambda: cancel(h, JULIE, 10**6)) == "not_found"

    starts_on = h.run(lambda db: db.get(Line, line2).session.starts_on)
    while h.clock.now().date() < starts_on:
        h.clock.advance(timedelta(days=1))
    with pytest.raises(RegistrationError) as refused:
        cancel(h, JULIE, line2)
    assert refused.value.code == "activity_started"
    assert refused.value.extra["starts_on"] == starts_on
    assert h.run(lambda db: db.get(Line, line2).status.value) == "confirmed"
    assert order_state(h, order_id)[0] in ("partially_paid", "paid")
    assert all(c.refunded_cents == 0 for c in gateway_of(h).ledger().values())


def test_within_the_refund_deadline_nothing_comes_back_but_nothing_more_is_due(
    h: Harness,
) -> None:
    order_id, _, line3 = two_paid_weeks(h)
    starts_on = h.run(lambda db: db.get(Line, line3).session.starts_on)
    days_left = (starts_on - h.clock.now().date()).days
    h.settings = replace(h.settings, refund_deadline_days=days_left + 1)

    announced = preview(h, JULIE, line3)
    assert (announced["refund_cents"], announced["fee_cents"]) == (0, 4750)
    done = cancel(h, JULIE, line3)
    assert (done["refund_cents"], done["fee_cents"], done["still_due_cancelled_cents"]) == (
        0,
        4750,
        4750,
    )
    assert order_state(h, order_id)[1] == [(1, "paid", 9500), (2, "scheduled", 4750)]
    assert all(c.refunded_cents == 0 for c in gateway_of(h).ledger().values())


def test_a_held_place_is_cancelled_for_nothing_and_goes_to_the_waitlist(h: Harness) -> None:
    week4 = h.camp_session(RIVIERE, "9-12 ans", 4)
    hold(h, JULIE, LEA, [week4])
    fill(h, week4)
    emma = wait_for(h, EMMA_FAMILY, EMMA, week4)
    lea = h.run(
        lambda db: db.scalar(select(Line.id).where(Line.session_id == week4, Line.id != emma))
    )
    announced = preview(h, JULIE, lea)
    assert (announced["refund_cents"], announced["fee_cents"]) == (0, 0)
    assert announced["still_due_cancelled_cents"] == 0
    done = cancel(h, JULIE, lea)
    assert done["line"]["status"] == "cancelled" and done["remaining_due"] == []
    assert h.run(lambda db: db.get(Line, emma).status.value) == "offered"
    h.assert_capacity_exact()


def test_a_late_webhook_for_a_payment_refunded_since_refunds_nothing_more(h: Harness) -> None:
    """The page recorded the payment, the parent cancelled (refunded in full), and only then
    does the provider's webhook for that same payment arrive: it is the payment already
    recorded, not a second one to give back."""
    h.settings = replace(h.settings, cancellation_fee_cents=0)
    week2 = h.camp_session(RIVIERE, "9-12 ans", 2)
    hold(h, JULIE, LEA, [week2])
    order_id = order_for(h, JULIE, n=1)
    paid = pay(h, order_id)
    # the page's own answer first: no webhook event yet
    assert deliver(h, replace(paid, event_id=None))["outcome"] == "paid"
    ((line, _),) = lines_of(h, order_id)
    assert cancel(h, JULIE, line)["refund_cents"] == 9500
    assert order_state(h, order_id)[1] == [(1, "refunded", 9500)]

    assert deliver(h, paid)["outcome"] == "already_paid"
    (charge,) = gateway_of(h).ledger().values()
    assert (charge.amount_cents, charge.refunded_cents) == (9500, 9500)
    assert line_money(h, line) == (9500, 9500)
    assert_books(h, gateway_of(h).ledger())
