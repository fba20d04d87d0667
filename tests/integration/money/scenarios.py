"""Money scenarios, each played against whatever gateway the harness holds (the in-process
fake here; a real provider's test server in the contract run), each ending with the books
checked (`books.assert_books`). Every one of them lost money, or kept too much, before the
allocation recorded at capture.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.db.engine import transaction
from backend.db.models import Installment, Line, Order
from backend.db.models import Session as ActivitySession
from backend.jobs import run_due_jobs
from backend.services import capacity, cart, checkout, staff
from tests.integration.core.helpers import Harness
from tests.integration.money.books import Capture, assert_books, deliver, line_money, pay_link
from tests.integration.money.fake_gateway import TestableGateway

RIVIERE = "Parc de la Rivière"
JULIE = "100001"
LEA = ("Léa", "Tremblay")


def gateway_of(h: Harness) -> TestableGateway:
    gateway: TestableGateway = h.gateway  # type: ignore[assignment]
    return gateway


def hold(
    h: Harness, client: str, child: tuple[str, str], sessions: list[int], *, wait: bool = False
) -> None:
    """Put the child in the sessions (on their waitlist when full and `wait`)."""
    fid, cid = h.family_id(client), h.child_id(*child)
    h.run(
        lambda db: cart.add_lines(
            db, fid, child_id=cid, session_ids=sessions, join_waitlist=wait, **h.deps
        )
    )


def order_for(h: Harness, client: str, n: int = 1, key: str | None = None) -> int:
    fid = h.family_id(client)
    result = h.run(
        lambda db: checkout.checkout(
            db,
            fid,
            installments=n,
            accept_terms=True,
            card_on_file_consent=True,
            idempotency_key=key,
            **h.deps,
        )
    )
    return int(result["order_id"])


def pay(h: Harness, order_id: int, *, save_card: bool = False) -> Capture:
    """The parent pays the order's current link (the capture is not delivered yet)."""
    return pay_link(h, order_id, save_card=save_card)


def order_state(h: Harness, order_id: int) -> tuple[str, list[tuple[int, str, int]]]:
    def q(db: Session) -> tuple[str, list[tuple[int, str, int]]]:
        order = db.get(Order, order_id)
        assert order is not None
        return order.status.value, [
            (i.seq, i.status.value, i.amount_cents) for i in order.installments
        ]

    return h.run(q)


def lines_of(h: Harness, order_id: int) -> list[tuple[int, str]]:
    return h.run(
        lambda db: [
            (line.id, line.status.value)
            for line in db.scalars(select(Line).where(Line.order_id == order_id).order_by(Line.id))
        ]
    )


def cancel(h: Harness, line_id: int) -> dict[str, Any]:
    return h.run(lambda db: staff.cancel_line(db, line_id, **h.deps))


def second_installment_day(h: Harness, order_id: int) -> None:
    due_on = h.run(
        lambda db: db.scalar(
            select(Installment.due_on).where(Installment.order_id == order_id, Installment.seq == 2)
        )
    )
    assert due_on is not None
    while h.clock.now().date() <= due_on:
        h.clock.advance(timedelta(days=1))
    run_due_jobs(h.factory, **h.deps)


def fill(h: Harness, session_id: int) -> None:
    """Staff lower the session's capacity to the places taken: it is full."""

    def lower(db: Session) -> None:
        pool_id = db.get(ActivitySession, session_id).pool_id  # type: ignore[union-attr]
        taken = capacity.counts(db, [pool_id])[pool_id][1]
        staff.set_capacity(db, session_id, taken, **h.deps)

    h.run(lower)


def at_once(n: int, fn: Callable[[], Any]) -> tuple[list[Any], list[BaseException]]:
    """`fn` from `n` threads released together; their results and their errors."""
    barrier = threading.Barrier(n)
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run() -> None:
        try:
            barrier.wait(timeout=30)
            r = fn()
            with lock:
                results.append(r)
        except BaseException as exc:  # collected and asserted on by the caller
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results, errors


# ---------------------------------------------------------------------------- the scenarios


def both_weeks_cancelled_after_two_installments(h: Harness) -> None:
    """Two 95 $ weeks in two installments, one cancelled after each: all 142,50 $ paid come
    back (there used to be 23,75 $ kept)."""
    hold(h, JULIE, LEA, [h.camp_session(RIVIERE, "9-12 ans", n) for n in (2, 3)])
    order_id = order_for(h, JULIE, n=2)
    assert deliver(h, pay(h, order_id, save_card=True))["outcome"] == "paid"
    (week2, _), (week3, _) = lines_of(h, order_id)
    assert cancel(h, week3)["refunded_cents"] == 4750
    assert order_state(h, order_id)[1] == [(1, "paid", 9500), (2, "scheduled", 4750)]
    second_installment_day(h, order_id)
    assert order_state(h, order_id) == ("paid", [(1, "paid", 9500), (2, "paid", 4750)])
    assert cancel(h, week2)["refunded_cents"] == 9500
    assert order_state(h, order_id)[0] == "refunded"
    assert line_money(h, week2) == (9500, 9500) and line_money(h, week3) == (4750, 4750)
    ledger = gateway_of(h).ledger()
    assert sum(c.amount_cents - c.refunded_cents for c in ledger.values()) == 0
    assert_books(h, ledger)


def payment_after_a_staff_cancellation_confirms_the_other_lines(h: Harness) -> None:
    """A declined second installment paid by its link after staff cancelled one line: the
    payment is kept for the line still registered (it used to refund itself and mark the
    whole order refunded)."""
    hold(h, JULIE, LEA, [h.camp_session(RIVIERE, "9-12 ans", n) for n in (2, 3)])
    order_id = order_for(h, JULIE, n=2)
    assert deliver(h, pay(h, order_id, save_card=True))["outcome"] == "paid"
    (week2, _), (week3, _) = lines_of(h, order_id)
    gateway_of(h).decline_saved_cards(True)
    second_installment_day(h, order_id)
    assert order_state(h, order_id)[1][1][1] == "failed"
    cancel(h, week3)
    assert order_state(h, order_id)[1] == [(1, "paid", 9500), (2, "failed", 4750)]
    assert deliver(h, pay(h, order_id))["outcome"] == "paid"
    assert order_state(h, order_id) == ("paid", [(1, "paid", 9500), (2, "paid", 4750)])
    assert dict(lines_of(h, order_id)) == {week2: "confirmed", week3: "cancelled"}
    assert line_money(h, week2) == (9500, 0)
    assert_books(h, gateway_of(h).ledger())


def two_payments_for_one_installment_at_once(h: Harness) -> None:
    """The same link paid twice (two tabs), both confirmations arriving at once: one charge
    kept, the other refunded in full."""
    hold(h, JULIE, LEA, [h.camp_session(RIVIERE, "9-12 ans", 2)])
    order_id = order_for(h, JULIE)
    first, second = pay(h, order_id), pay(h, order_id)
    captures = iter([first, second])
    lock = threading.Lock()

    def one() -> str:
        with lock:
            capture = next(captures)
        return str(deliver(h, capture)["outcome"])

    outcomes, errors = at_once(2, one)
    assert errors == []
    assert sorted(outcomes) == ["already_paid", "paid"]
    assert order_state(h, order_id) == ("paid", [(1, "paid", 9500)])
    ledger = gateway_of(h).ledger()
    kept = sorted(
        ledger[c.charge_id].amount_cents - ledger[c.charge_id].refunded_cents
        for c in (first, second)
    )
    assert kept == [0, 9500]
    assert_books(h, ledger)


def two_payments_for_one_installment_in_either_order(h: Harness, *, reverse: bool) -> None:
    hold(h, JULIE, LEA, [h.camp_session(RIVIERE, "9-12 ans", 2)])
    order_id = order_for(h, JULIE)
    captures = [pay(h, order_id), pay(h, order_id)]
    if reverse:
        captures.reverse()
    outcomes = [deliver(h, c)["outcome"] for c in captures]
    outcomes.append(deliver(h, captures[0])["outcome"])  # a replay changes nothing
    assert outcomes == ["paid", "already_paid", "duplicate"]
    ledger = gateway_of(h).ledger()
    assert ledger[captures[1].charge_id].refunded_cents == 9500
    assert ledger[captures[0].charge_id].refunded_cents == 0
    assert_books(h, ledger)


def late_payment_never_registers_a_child_twice(h: Harness) -> None:
    """Léa's hold ran out, she was put back in the same week and that order paid; then the
    first link is paid too: refunded, and Léa holds one place in that week."""
    week2 = h.camp_session(RIVIERE, "9-12 ans", 2)
    hold(h, JULIE, LEA, [week2])
    first_order = order_for(h, JULIE)
    late = pay(h, first_order)
    h.clock.advance(timedelta(minutes=h.settings.pay_link_minutes + h.settings.hold_minutes + 1))
    run_due_jobs(h.factory, **h.deps)
    assert lines_of(h, first_order)[0][1] == "released"
    hold(h, JULIE, LEA, [week2])
    second_order = order_for(h, JULIE)
    assert deliver(h, pay(h, second_order))["outcome"] == "paid"
    assert deliver(h, late)["outcome"] == "refunded"
    lea = h.child_id(*LEA)
    places = h.run(
        lambda db: db.scalars(
            select(Line.status).where(Line.person_id == lea, Line.session_id == week2)
        ).all()
    )
    assert sorted(s.value for s in places) == ["confirmed", "released"]
    assert gateway_of(h).ledger()[late.charge_id].refunded_cents == 9500
    assert_books(h, gateway_of(h).ledger())


def late_payment_never_gives_a_child_two_parks_the_same_week(h: Harness) -> None:
    """Léa's hold at one park ran out and she was registered the same week at another park;
    the first link paid late is refunded: the two weeks meet at the same time."""
    riviere = h.camp_session(RIVIERE, "9-12 ans", 2)
    erables = h.camp_session("Parc des Érables", "9-12 ans", 2)
    hold(h, JULIE, LEA, [riviere])
    first_order = order_for(h, JULIE)
    late = pay(h, first_order)
    h.clock.advance(timedelta(minutes=h.settings.pay_link_minutes + h.settings.hold_minutes + 1))
    run_due_jobs(h.factory, **h.deps)
    hold(h, JULIE, LEA, [erables])
    assert deliver(h, pay(h, order_for(h, JULIE)))["outcome"] == "paid"
    assert deliver(h, late)["outcome"] == "refunded"
    assert lines_of(h, first_order)[0][1] == "released"
    assert gateway_of(h).ledger()[late.charge_id].refunded_cents == 9500
    assert_books(h, gateway_of(h).ledger())


def late_payment_confirms_what_it_can_and_refunds_the_rest(h: Harness) -> None:
    """Two weeks held, the hold runs out, one week is then taken by someone else and the
    link is paid: the free week is confirmed, the other refunded."""
    weeks = [h.camp_session(RIVIERE, "9-12 ans", n) for n in (2, 3)]
    hold(h, JULIE, LEA, weeks)
    order_id = order_for(h, JULIE)
    late = pay(h, order_id)
    h.clock.advance(timedelta(minutes=h.settings.pay_link_minutes + h.settings.hold_minutes + 1))
    run_due_jobs(h.factory, **h.deps)
    fill(h, weeks[1])
    assert deliver(h, late)["outcome"] == "paid"
    (w2, s2), (w3, s3) = lines_of(h, order_id)
    assert (s2, s3) == ("confirmed", "released")
    assert line_money(h, w2) == (9500, 0) and line_money(h, w3) == (9500, 9500)
    assert gateway_of(h).ledger()[late.charge_id].refunded_cents == 9500
    assert order_state(h, order_id)[0] == "paid"
    assert_books(h, gateway_of(h).ledger())


def two_checkouts_with_one_key_at_once(h: Harness) -> None:
    """A double tap sends the same checkout twice at once: one order, the same for both."""
    hold(h, JULIE, LEA, [h.camp_session(RIVIERE, "9-12 ans", n) for n in (2, 3)])
    fid = h.family_id(JULIE)

    def one() -> int:
        with transaction(h.factory) as db:
            return int(
                checkout.checkout(
                    db,
                    fid,
                    installments=2,
                    accept_terms=True,
                    card_on_file_consent=True,
                    idempotency_key="double-tap-1",
                    **h.deps,
                )["order_id"]
            )

    ids, errors = at_once(2, one)
    assert errors == [] and len(set(ids)) == 1
    assert order_state(h, ids[0])[0] == "awaiting_payment"
    assert h.run(lambda db: db.scalars(select(Order.id)).all()) == [ids[0]]
    assert deliver(h, pay(h, ids[0]))["outcome"] == "paid"
    assert_books(h, gateway_of(h).ledger())
