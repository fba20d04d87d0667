"""The registration spine on real databases (SQLite and PostgreSQL), at chosen instants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from backend.adapters.clock import ManualClock, from_local
from backend.db.models import CapacityPool, Installment, Line, LineStatus, Order, SessionOption
from backend.domain.errors import RegistrationError
from backend.jobs import run_due_jobs
from backend.services import cart, catalog, checkout, family, staff, waitlist
from tests.integration.core.helpers import (
    CARD_APPROVED,
    CARD_DECLINES_LATER,
    Harness,
    PaidAtProvider,
    deliver_payment,
    make_harness,
    pay_at_provider,
)

ERABLES, RIVIERE = "Parc des Érables", "Parc de la Rivière"


@pytest.fixture
def h(session_factory: sessionmaker[Session], clock: ManualClock) -> Harness:
    return make_harness(session_factory, clock)


def add(h: Harness, client: str, child: tuple[str, str], sessions: list[int], **kw: Any) -> Any:
    fid = h.family_id(client)
    cid = h.child_id(*child)
    if child[1] != "Tremblay":  # only Julie's children have a T-shirt size on file
        kw.setdefault("tshirt_size", "M")
    return h.run(
        lambda db: cart.add_lines(db, fid, child_id=cid, session_ids=sessions, **kw, **h.deps)
    )


def pay(h: Harness, order_id: int, card: str = CARD_APPROVED, save: bool = False) -> Paid:
    """What the hosted page does at the provider; the backend records it in `deliver`."""
    return Paid(pay_at_provider(h, order_id, card=card), save)


@dataclass(frozen=True)
class Paid:
    at_provider: PaidAtProvider
    save: bool


def deliver(h: Harness, paid: Paid) -> dict[str, Any]:
    return deliver_payment(h, paid.at_provider, save=paid.save)


def do_checkout(h: Harness, client: str, n: int = 1, key: str | None = None) -> dict[str, Any]:
    fid = h.family_id(client)
    return h.run(
        lambda db: checkout.checkout(
            db, fid, installments=n, accept_terms=True, card_on_file_consent=True,
            idempotency_key=key, **h.deps,
        )
    )


# ------------------------------------------------------------------ demo data and refusals


def test_demo_catalog_has_the_full_week_and_prices(h: Harness) -> None:
    julie = h.family_id("100001")
    lea = h.child_id("Léa", "Tremblay")
    view = h.run(lambda db: catalog.catalog_view(db, clock=h.clock, family_id=julie, child_id=lea))
    assert view["child"]["age_at_reference"] == 9
    camp = next(p for p in view["programs"] if p["category"] == "camp_de_jour")
    labels = {(g["site"], g["label"]) for g in camp["groups"]}
    assert labels == {(ERABLES, "9-12 ans"), (RIVIERE, "9-12 ans")}
    full = h.run(lambda db: catalog.catalog_view(db, clock=h.clock))
    camp = next(p for p in full["programs"] if p["category"] == "camp_de_jour")
    g78 = next(g for g in camp["groups"] if g["site"] == ERABLES and g["label"] == "7-8 ans")
    w1, w2 = g78["sessions"][0], g78["sessions"][1]
    assert (w1["available"], w1["capacity"], w1["starts_on"]) == (0, 20, "2027-06-28")
    assert (w2["available"], w2["starts_on"], w2["ends_on"]) == (20, "2027-07-05", "2027-07-09")
    assert w2["options"] == [
        {"code": "garde", "price_cents": 4000, "available": 15},
        {"code": "velo", "price_cents": 1500, "available": 10},
    ]
    assert len(g78["sessions"]) == 8 and g78["sessions"][7]["ends_on"] == "2027-08-20"
    fam = h.run(lambda db: family.family_view(db, julie))
    assert fam["phone_masked"] == "***-***-0101" and fam["email_masked"] == "j***@example.com"
    assert [c["first_name"] for c in fam["children"]] == ["Léa", "Thomas"]
    assert all(c["has_health_record"] for c in fam["children"])
    h.assert_capacity_exact()


def test_refusals_take_nothing(h: Harness) -> None:
    w2 = h.camp_session(ERABLES, "7-8 ans", 2)
    w2_912 = h.camp_session(ERABLES, "9-12 ans", 2)
    with pytest.raises(RegistrationError) as err:
        add(h, "100003", ("Noah", "Roy"), [w2])
    assert err.value.code == "account_pending"
    with pytest.raises(RegistrationError) as err:
        add(h, "100001", ("Thomas", "Tremblay"), [w2_912])
    assert err.value.code == "not_eligible"
    assert err.value.extra.items() >= {"age": 7, "min_age": 9, "max_age": 12}.items()
    # Karim is not a resident: his window opens 20 April 18:00; residents' opened a week before.
    h.clock.set(from_local(datetime(2027, 4, 20, 17, 59)))
    with pytest.raises(RegistrationError) as err:
        add(h, "100004", ("Yasmine", "Haddad"), [w2])
    assert err.value.code == "registration_not_open"
    assert err.value.extra["opens_at"] == "2027-04-20T22:00:00"
    assert add(h, "100001", ("Thomas", "Tremblay"), [w2])["results"][0]["outcome"] == "held"
    h.clock.set(from_local(datetime(2027, 4, 20, 18, 0)))
    assert add(h, "100004", ("Yasmine", "Haddad"), [w2])["results"][0]["outcome"] == "held"
    h.assert_capacity_exact()


def test_a_family_cannot_touch_another_familys_line(h: Harness) -> None:
    w2 = h.camp_session(ERABLES, "7-8 ans", 2)
    line_id = add(h, "100001", ("Thomas", "Tremblay"), [w2])["results"][0]["line_id"]
    marc = h.family_id("100002")
    with pytest.raises(RegistrationError) as err:
        h.run(lambda db: cart.remove_line(db, marc, line_id, **h.deps))
    assert err.value.code == "not_found"
    with pytest.raises(RegistrationError):
        add(h, "100002", ("Thomas", "Tremblay"), [w2])  # Marc naming Julie's child
    h.assert_capacity_exact()


# ------------------------------------------------------------------ holds, options, waitlist


def test_full_week_waitlist_options_and_capacity(h: Harness) -> None:
    weeks = [h.camp_session(ERABLES, "7-8 ans", n) for n in (1, 2, 3)]
    out = add(h, "100001", ("Thomas", "Tremblay"), weeks, options=["garde"])
    assert [r["outcome"] for r in out["results"]] == ["full", "held", "held"]
    out = add(h, "100001", ("Thomas", "Tremblay"), weeks, options=["garde"], join_waitlist=True)
    assert [r["outcome"] for r in out["results"]] == [
        "waitlisted", "already_registered", "already_registered"
    ]
    assert out["results"][0]["waitlist_position"] == 1
    c = out["cart"]
    # Waitlisted lines are shown but never billed: 2 x (95 + 40) payable.
    assert c["payable_cents"] == 27000 and c["total_cents"] == 40500
    assert c["installments"] == {"allowed": [1, 2], "refused_reason": None}
    h.assert_capacity_exact()


def test_option_full_gives_the_base_place_back(h: Harness) -> None:
    w4 = h.camp_session(RIVIERE, "7-8 ans", 4)
    # Fill the site's vélo places for week 4 (10 shared by the three age groups).
    with h.factory() as db:
        pool_id = db.scalar(
            select(SessionOption.pool_id).where(
                SessionOption.session_id == w4, SessionOption.code == "velo"
            )
        )
        db.get(CapacityPool, pool_id).capacity = 0  # type: ignore[union-attr]
        db.commit()
    out = add(h, "100001", ("Thomas", "Tremblay"), [w4], options=["velo"])
    assert out["results"][0].items() >= {"outcome": "option_full", "option": "velo"}.items()
    view = h.run(lambda db: catalog.catalog_view(db, clock=h.clock))
    s = next(
        s for p in view["programs"] for g in p["groups"] for s in g["sessions"] if s["id"] == w4
    )
    assert s["available"] == 20
    h.assert_capacity_exact()


def test_hold_expiry_and_offers_cascade(h: Harness) -> None:
    w5 = h.camp_session(ERABLES, "7-8 ans", 5)
    h.run(lambda db: staff.set_capacity(db, w5, 1, **h.deps))
    holder = add(h, "100001", ("Thomas", "Tremblay"), [w5])["results"][0]
    assert holder["outcome"] == "held"
    yas = add(h, "100004", ("Yasmine", "Haddad"), [w5], join_waitlist=True)["results"][0]
    # A third child (Emma is 11; use Noah after approving Sophie).
    h.run(lambda db: staff.approve_family(db, "100003", clock=h.clock))
    noah = add(h, "100003", ("Noah", "Roy"), [w5], join_waitlist=True)["results"][0]
    assert (yas["waitlist_position"], noah["waitlist_position"]) == (1, 2)

    # 20 minutes later the hold is gone and the place is offered to Yasmine, with a link.
    h.clock.advance(timedelta(minutes=20))
    counts = h.run(lambda db: waitlist.expire_and_cascade(db, **h.deps))
    assert counts.items() >= {"holds_released": 1, "offers_made": 1}.items()
    karim = h.family_id("100004")
    offers = h.notifications("waitlist_offer", karim)
    assert offers and "http://localhost:8000/p/" in offers[0].body
    kc = h.run(lambda db: cart.cart_view(db, karim, clock=h.clock, settings=h.settings))
    assert kc["lines"][0]["status"] == "offered"
    sophie = h.family_id("100003")
    sc = h.run(lambda db: cart.cart_view(db, sophie, clock=h.clock, settings=h.settings))
    assert sc["lines"][0]["waitlist_position"] == 1
    h.assert_capacity_exact()

    # 48 hours without payment: the offer passes to Noah.
    h.clock.advance(timedelta(hours=48))
    h.run(lambda db: waitlist.expire_and_cascade(db, **h.deps))
    assert h.notifications("offer_expired", karim)
    sc = h.run(lambda db: cart.cart_view(db, sophie, clock=h.clock, settings=h.settings))
    assert sc["lines"][0]["status"] == "offered"
    assert h.notifications("waitlist_offer", sophie)
    # Noah's family pays the offer's link: registered.
    order_id = sc["lines"][0]["order_id"]
    assert deliver(h, pay(h, order_id))["outcome"] == "paid"
    line = h.run(lambda db: db.get(Line, noah["line_id"]))
    assert line is not None and line.status == LineStatus.CONFIRMED
    h.assert_capacity_exact()


def test_positions_stay_1_to_n_after_removals_and_capacity_raise(h: Harness) -> None:
    w1 = h.camp_session(ERABLES, "7-8 ans", 1)  # the demo's full week
    h.run(lambda db: staff.approve_family(db, "100003", clock=h.clock))
    lines = [
        add(h, c, k, [w1], join_waitlist=True)["results"][0]
        for c, k in (
            ("100001", ("Thomas", "Tremblay")),
            ("100004", ("Yasmine", "Haddad")),
            ("100003", ("Noah", "Roy")),
        )
    ]
    assert [r["waitlist_position"] for r in lines] == [1, 2, 3]
    julie = h.family_id("100001")
    h.run(lambda db: cart.remove_line(db, julie, lines[0]["line_id"], **h.deps))
    sophie, karim = h.family_id("100003"), h.family_id("100004")
    pos = h.run(lambda db: cart.cart_view(db, sophie, clock=h.clock, settings=h.settings))
    assert pos["lines"][0]["waitlist_position"] == 2
    # The city adds a place: Yasmine (now first) gets it.
    h.run(lambda db: staff.set_capacity(db, w1, 21, **h.deps))
    kc = h.run(lambda db: cart.cart_view(db, karim, clock=h.clock, settings=h.settings))
    assert kc["lines"][0]["status"] == "offered"
    pos = h.run(lambda db: cart.cart_view(db, sophie, clock=h.clock, settings=h.settings))
    assert pos["lines"][0]["waitlist_position"] == 1
    with pytest.raises(RegistrationError) as err:  # waitlist-only cart
        do_checkout(h, "100003")
    assert err.value.code == "waitlist_only"
    h.assert_capacity_exact()


# ------------------------------------------------------------------ checkout and payments


def test_checkout_is_idempotent_and_enforces_terms(h: Harness) -> None:
    weeks = [h.camp_session(RIVIERE, "9-12 ans", n) for n in (2, 3, 4)]
    add(h, "100001", ("Léa", "Tremblay"), weeks, options=["garde"])
    julie = h.family_id("100001")
    with pytest.raises(RegistrationError) as err:
        h.run(lambda db: checkout.checkout(
            db, julie, installments=1, accept_terms=False, card_on_file_consent=False,
            idempotency_key="k0", **h.deps))
    assert err.value.code == "terms_not_accepted"
    first = do_checkout(h, "100001", 2, key="abc")
    again = do_checkout(h, "100001", 2, key="abc")
    assert first["order_id"] == again["order_id"]
    assert h.run(lambda db: db.scalar(select(func.count(Order.id)))) == 1
    assert first["status"] == "awaiting_payment"
    assert [(i["due_on"], i["amount_cents"]) for i in first["installments"]] == [
        ("2027-04-20", 20250), ("2027-05-20", 20250)
    ]
    assert first["payment_url"].startswith("http://localhost:8000/p/")
    assert len(first["payment_url"].rsplit("/", 1)[1]) <= 12
    # Holds extended to the link's expiry (30 min), beyond the 20-minute hold.
    c = h.run(lambda db: cart.cart_view(db, julie, clock=h.clock, settings=h.settings))
    assert {ln["hold_expires_at"] for ln in c["lines"]} == {first["pay_link_expires_at"]}
    links = h.notifications("payment_link", julie)
    assert {n.channel.value for n in links} == {"sms", "email"}


def test_installments_not_allowed_for_swimming(h: Harness) -> None:
    view = h.run(lambda db: catalog.catalog_view(db, clock=h.clock))
    level3 = next(
        g["sessions"][0]["id"] for p in view["programs"] if p["category"] == "natation"
        for g in p["groups"] if g["level"] == 3
    )
    add(h, "100001", ("Léa", "Tremblay"), [level3])
    with pytest.raises(RegistrationError) as err:
        do_checkout(h, "100001", 2)
    assert err.value.code == "installments_not_allowed"
    assert err.value.extra["reason"] == "not_day_camp"


def test_two_installments_paid_webhook_replayed_then_job_charges_the_rest(h: Harness) -> None:
    karim = h.family_id("100004")
    weeks = [h.camp_session(ERABLES, "7-8 ans", n) for n in (2, 3)]
    add(h, "100004", ("Yasmine", "Haddad"), weeks)
    order = do_checkout(h, "100004", 2, key="karim-1")
    assert [i["amount_cents"] for i in order["installments"]] == [14000, 14000]
    event = pay(h, order["order_id"], save=True)
    assert deliver(h, event)["outcome"] == "paid"
    assert deliver(h, event)["outcome"] == "duplicate"
    assert deliver(h, event)["outcome"] == "duplicate"
    view = h.run(lambda db: checkout.order_view(db, karim, order["order_id"]))
    assert (view["status"], view["paid_cents"], view["due_cents"]) == (
        "partially_paid", 14000, 14000
    )
    assert {ln["status"] for ln in view["lines"]} == {"confirmed"}
    assert len(h.notifications("confirmation", karim)) == 1  # SMS only: no courriel on file
    # Not due yet on 19 May; due 20 May (city date).
    h.clock.set(from_local(datetime(2027, 5, 19, 23, 0)))
    assert run_due_jobs(h.factory, **h.deps)["installments"] == {"charged": 0, "failed": 0}
    h.clock.set(from_local(datetime(2027, 5, 20, 0, 30)))
    assert run_due_jobs(h.factory, **h.deps)["installments"] == {"charged": 1, "failed": 0}
    view = h.run(lambda db: checkout.order_view(db, karim, order["order_id"]))
    assert (view["status"], view["paid_cents"], view["due_cents"]) == ("paid", 28000, 0)
    assert run_due_jobs(h.factory, **h.deps)["installments"] == {"charged": 0, "failed": 0}
    h.assert_capacity_exact()


def test_declined_second_installment_sends_a_payment_link(h: Harness) -> None:
    julie = h.family_id("100001")
    add(h, "100001", ("Léa", "Tremblay"), [h.camp_session(RIVIERE, "9-12 ans", 6)],
        options=["garde"])
    order = do_checkout(h, "100001", 2)
    deliver(h, pay(h, order["order_id"], card=CARD_DECLINES_LATER, save=True))
    h.clock.set(from_local(datetime(2027, 5, 20, 9, 0)))
    assert run_due_jobs(h.factory, **h.deps)["installments"] == {"charged": 0, "failed": 1}
    failed = h.notifications("installment_failed", julie)
    assert failed and "http://localhost:8000/p/" in failed[0].body
    inst = h.run(lambda db: db.scalars(select(Installment).where(Installment.seq == 2)).one())
    assert inst.status.value == "failed"
    # The parent pays the new link: the order is paid.
    assert deliver(h, pay(h, order["order_id"]))["outcome"] == "paid"
    view = h.run(lambda db: checkout.order_view(db, julie, order["order_id"]))
    assert view["status"] == "paid" and view["due_cents"] == 0


def test_late_payment_confirms_when_places_are_free(h: Harness) -> None:
    marc = h.family_id("100002")
    add(h, "100002", ("Emma", "Gagnon"), [h.camp_session(ERABLES, "9-12 ans", 7)],
        options=["velo"])
    order = do_checkout(h, "100002", 1)
    event = pay(h, order["order_id"])
    h.clock.advance(timedelta(minutes=31))
    counts = h.run(lambda db: waitlist.expire_and_cascade(db, **h.deps))
    assert counts.items() >= {"holds_released": 1, "orders_expired": 1}.items()
    h.assert_capacity_exact()
    assert deliver(h, event)["outcome"] == "paid"
    view = h.run(lambda db: checkout.order_view(db, marc, order["order_id"]))
    assert view["status"] == "paid" and view["lines"][0]["status"] == "confirmed"
    h.assert_capacity_exact()


def test_late_payment_is_refunded_when_the_place_was_taken(h: Harness) -> None:
    w8 = h.camp_session(ERABLES, "7-8 ans", 8)
    h.run(lambda db: staff.set_capacity(db, w8, 1, **h.deps))
    add(h, "100001", ("Thomas", "Tremblay"), [w8])
    order = do_checkout(h, "100001", 1)
    event = pay(h, order["order_id"])
    h.clock.advance(timedelta(minutes=31))
    h.run(lambda db: waitlist.expire_and_cascade(db, **h.deps))
    assert add(h, "100004", ("Yasmine", "Haddad"), [w8])["results"][0]["outcome"] == "held"
    assert deliver(h, event)["outcome"] == "refunded"
    julie = h.family_id("100001")
    assert h.notifications("late_payment_refunded", julie)
    view = h.run(lambda db: checkout.order_view(db, julie, order["order_id"]))
    assert view["status"] == "refunded"
    h.assert_capacity_exact()


def test_deferred_season_takes_the_order_and_charges_nothing(h: Harness) -> None:
    season_id = h.run(lambda db: catalog.season_view(db, clock=h.clock)["id"])
    h.run(lambda db: staff.set_payment_mode(db, season_id, "deferred", **h.deps))
    julie = h.family_id("100001")
    add(h, "100001", ("Léa", "Tremblay"), [h.camp_session(RIVIERE, "9-12 ans", 2)])
    order = do_checkout(h, "100001", 1)
    assert order["status"] == "deferred" and order["payment_url"] is None
    assert h.notifications("deferred_registered", julie)
    assert order["lines"][0]["status"] == "confirmed"
    out = h.run(lambda db: staff.set_payment_mode(db, season_id, "normal", **h.deps))
    assert out["payment_links_sent"] == 1
    assert deliver(h, pay(h, order["order_id"]))["outcome"] == "paid"
    view = h.run(lambda db: checkout.order_view(db, julie, order["order_id"]))
    assert view["status"] == "paid"
    h.assert_capacity_exact()


def test_terms_view_dates(h: Harness) -> None:
    add(h, "100001", ("Léa", "Tremblay"), [h.camp_session(RIVIERE, "9-12 ans", 1)],
        options=["garde"])
    h.clock.set(from_local(datetime(2027, 6, 1, 10, 0)))
    julie = h.family_id("100001")
    # The hold expired long ago; add again at this date (window closes 20 June).
    h.run(lambda db: waitlist.expire_and_cascade(db, **h.deps))
    add(h, "100001", ("Léa", "Tremblay"), [h.camp_session(RIVIERE, "9-12 ans", 1)],
        options=["garde"])
    t = h.run(lambda db: checkout.terms_view(db, julie, clock=h.clock, settings=h.settings))
    assert t["plans"]["2"] == [
        {"seq": 1, "due_on": "2027-06-01", "amount_cents": 6750},
        {"seq": 2, "due_on": "2027-06-27", "amount_cents": 6750},
    ]
    assert date.fromisoformat(t["plans"]["2"][1]["due_on"]) < date(2027, 6, 28)
