"""A small harness over the core services: one transaction per call, like the HTTP layer."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from localstripe_process import SECRET_KEY, browser_confirms_setup, card_on_file, shared
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from backend.adapters.clock import ManualClock
from backend.adapters.gateway import Payment, PaymentStatus, PaymentTags
from backend.adapters.stripe_gateway import StripeGateway
from backend.db.engine import transaction
from backend.db.models import (
    AccountStatus,
    CapacityPool,
    Family,
    Group,
    Line,
    LineOption,
    LineStatus,
    Order,
    Person,
    SessionOption,
    Site,
)
from backend.db.models import Session as ActivitySession
from backend.db.notifications import Notification
from backend.demo import seed_demo
from backend.services import payments, queries, refund_sender
from backend.settings import Settings

T = TypeVar("T")


@dataclass
class Harness:
    factory: sessionmaker[Session]
    clock: ManualClock
    settings: Settings
    gateway: StripeGateway

    def run(self, fn: Callable[[Session], T]) -> T:
        """`fn` in one transaction; then, as the HTTP layer does, the refunds it recorded are
        asked of the gateway."""
        with transaction(self.factory) as db:
            result = fn(db)
        refund_sender.send_pending(self.factory, gateway=self.gateway, clock=self.clock)
        return result

    @property
    def deps(self) -> dict[str, Any]:
        return {"clock": self.clock, "settings": self.settings, "gateway": self.gateway}

    def family_id(self, client_number: str) -> int:
        return self.run(
            lambda db: db.scalar(select(Family.id).where(Family.client_number == client_number))
        )

    def child_id(self, first_name: str, last_name: str) -> int:
        return self.run(
            lambda db: db.scalar(
                select(Person.id).where(
                    Person.first_name == first_name, Person.last_name == last_name
                )
            )
        )

    def camp_session(self, site: str, label: str, week: int) -> int:
        return self.run(
            lambda db: db.scalar(
                select(ActivitySession.id)
                .join(Group, Group.id == ActivitySession.group_id)
                .join(Site, Site.id == Group.site_id)
                .where(Site.name == site, Group.label == label, ActivitySession.number == week)
            )
        )

    def notifications(self, kind: str, family_id: int | None = None) -> list[Notification]:
        def q(db: Session) -> list[Notification]:
            stmt = select(Notification).where(Notification.kind == kind)
            if family_id is not None:
                stmt = stmt.where(Notification.family_id == family_id)
            return list(db.scalars(stmt.order_by(Notification.id)).all())

        return self.run(q)

    def assert_capacity_exact(self) -> None:
        """Every pool's counter equals the places real lines hold."""

        def check(db: Session) -> None:
            holding = [LineStatus.HELD, LineStatus.OFFERED, LineStatus.CONFIRMED]
            for s in db.scalars(select(ActivitySession)).all():
                n = db.scalar(
                    select(func.count(Line.id)).where(
                        Line.session_id == s.id, Line.status.in_(holding)
                    )
                )
                taken = db.scalar(select(CapacityPool.taken).where(CapacityPool.id == s.pool_id))
                assert taken == n, f"session {s.id}: counter {taken} != {n} lines"
            for pool_id in set(db.scalars(select(SessionOption.pool_id)).all()):
                n = db.scalar(
                    select(func.count(LineOption.id))
                    .join(SessionOption, SessionOption.id == LineOption.session_option_id)
                    .where(SessionOption.pool_id == pool_id, LineOption.holds_place.is_(True))
                )
                taken = db.scalar(select(CapacityPool.taken).where(CapacityPool.id == pool_id))
                assert taken == n, f"option pool {pool_id}: counter {taken} != {n}"

        self.run(check)

    def assert_counters_match(self) -> None:
        """`assert_capacity_exact` in four statements (for checks after every step): every
        pool's `taken` equals the lines, or the lines' options, holding a place in it."""

        def check(db: Session) -> None:
            holding = [LineStatus.HELD, LineStatus.OFFERED, LineStatus.CONFIRMED]
            held: dict[int, int] = {}
            for pool_id, n in db.execute(
                select(ActivitySession.pool_id, func.count(Line.id))
                .join(Line, Line.session_id == ActivitySession.id)
                .where(Line.status.in_(holding))
                .group_by(ActivitySession.pool_id)
            ).all():
                held[pool_id] = held.get(pool_id, 0) + n
            for pool_id, n in db.execute(
                select(SessionOption.pool_id, func.count(LineOption.id))
                .join(LineOption, LineOption.session_option_id == SessionOption.id)
                .where(LineOption.holds_place.is_(True))
                .group_by(SessionOption.pool_id)
            ).all():
                held[pool_id] = held.get(pool_id, 0) + n
            pools = set(db.scalars(select(ActivitySession.pool_id)).all())
            pools |= set(db.scalars(select(SessionOption.pool_id)).all())
            taken = {i: t for i, t in db.execute(select(CapacityPool.id, CapacityPool.taken)).all()}
            wrong = {p: (taken[p], held.get(p, 0)) for p in pools if taken[p] != held.get(p, 0)}
            assert wrong == {}, f"pool id -> (taken, places held by lines): {wrong}"

        self.run(check)

    def assert_within_capacity(self) -> None:
        """No pool has handed out more places than it has (nor fewer than none)."""
        rows = self.run(
            lambda db: db.execute(
                select(CapacityPool.id, CapacityPool.capacity, CapacityPool.taken)
            ).all()
        )
        over = [(i, cap, taken) for i, cap, taken in rows if not 0 <= taken <= cap]
        assert over == [], f"pools over capacity (id, capacity, taken): {over}"

    def assert_waitlist_contiguous(self) -> None:
        """In every session, the waiting lines rank exactly 1..n, as the API shows them."""

        def check(db: Session) -> None:
            waiting = db.scalars(select(Line).where(Line.status == LineStatus.WAITLISTED)).all()
            ranks = queries.waitlist_positions(db, list(waiting))
            by_session: dict[int, list[int]] = {}
            for line in waiting:
                by_session.setdefault(line.session_id, []).append(ranks[line.id])
            for session_id, got in by_session.items():
                assert sorted(got) == list(range(1, len(got) + 1)), (
                    f"session {session_id}: waitlist ranks {sorted(got)}"
                )

        self.run(check)

    def make_families(self, n: int, *, first: int = 0) -> list[tuple[int, int]]:
        """`n` approved resident families, each with one child aged 7 on the season's
        reference date (camp 7-8 ans) and a T-shirt size: (family id, child id)."""

        def create(db: Session) -> list[tuple[int, int]]:
            out = []
            for i in range(first, first + n):
                fam = Family(
                    client_number=f"7{i:05d}", phone=f"+1819555{i:04d}", email=None,
                    resident=True, status=AccountStatus.APPROVED, created_at=self.clock.now(),
                )
                fam.members.append(Person(
                    first_name="Parent", last_name=f"P{i}", birth_date=date(1985, 1, 1),
                    is_adult=True, is_payer=True,
                ))
                child = Person(first_name="Enfant", last_name=f"P{i}",
                               birth_date=date(2019, 12, 1), is_adult=False, tshirt_size="M")
                fam.members.append(child)
                db.add(fam)
                db.flush()
                out.append((fam.id, child.id))
            return out

        return self.run(create)


CARD_APPROVED = "4242424242424242"
CARD_DECLINED = "4000000000000002"  # refused when the browser confirms the card setup
CARD_DECLINES_LATER = "4000000000000341"  # attaches, but every charge of it is declined


def stripe_test_gateway(settings: Settings) -> StripeGateway:
    """The Stripe adapter, pointed at the test run's localstripe process."""
    return StripeGateway(
        secret_key=SECRET_KEY,
        webhook_secret=settings.stripe_webhook_secret,
        app_name=settings.stripe_app_name,
        api_base=shared().base,
        max_network_retries=0,
    )


@dataclass(frozen=True)
class PaidAtProvider:
    """A payment the provider took on the hosted page, not yet recorded by the backend; `card`
    is the payment method left on the order's customer."""

    payment: Payment
    card: str


def pay_at_provider(
    h: Harness, order_id: int, *, card: str = CARD_APPROVED, amount_cents: int | None = None,
    attempt: int = 1,
) -> PaidAtProvider:
    """What the parent's browser and the provider do on the hosted page, up to a succeeded
    payment tagged with the link's installment; the backend records it when the result is
    delivered (`deliver_payment`). A card that declines later is attached for a later
    installment only: the payment itself is made with an approved card."""
    def link(db: Session) -> tuple[int, int, str | None, int]:
        order = db.get(Order, order_id)
        assert order is not None
        inst = next(
            i for i in order.installments if i.gateway_session_id == order.gateway_session_id
        )
        return inst.id, inst.amount_cents, order.gateway_customer_id, order.family_id

    inst, due, customer, family_id = h.run(link)
    if customer is None:
        customer = h.gateway.ensure_customer(family_id=family_id, idempotency_key="unused")

        def keep(db: Session) -> None:
            db.get(Order, order_id).gateway_customer_id = customer  # type: ignore[union-attr]

        h.run(keep)
    setup = h.gateway.create_card_setup(customer_id=customer, idempotency_key="unused")
    status, body = browser_confirms_setup(shared(), setup.client_secret, CARD_APPROVED)
    assert status == 200, body
    confirmed = h.gateway.retrieve_card_setup(setup.id)
    assert confirmed.payment_method_id is not None
    h.gateway.attach_card(payment_method_id=confirmed.payment_method_id, customer_id=customer)
    payment = h.gateway.create_payment(
        customer_id=customer,
        payment_method_id=confirmed.payment_method_id,
        amount_cents=due if amount_cents is None else amount_cents,
        tags=PaymentTags(order_id=order_id, installment_id=inst, attempt=attempt),
        idempotency_key=f"test-{order_id}-{inst}-{attempt}-{secrets.token_hex(4)}",
        confirm=True,
    )
    assert payment.status == PaymentStatus.SUCCEEDED
    kept = confirmed.payment_method_id
    if card == CARD_DECLINES_LATER:
        kept = card_on_file(shared(), customer, card)
    return PaidAtProvider(payment, kept)


def deliver_payment(h: Harness, paid: PaidAtProvider, *, save: bool = False) -> dict[str, Any]:
    """The backend records the payment (as from its webhook: replays share the event id); with
    `save`, the card stays on file when the order has the parent's consent."""

    def record(db: Session) -> dict[str, Any]:
        if save:
            order = db.get(Order, paid.payment.tags.order_id)  # type: ignore[union-attr]
            if order is not None and order.card_on_file_consent:
                order.card_token = paid.card
        return payments.on_payment_succeeded(
            db,
            event_id=f"evt_{paid.payment.id}",
            payment=paid.payment,
            clock=h.clock,
            settings=h.settings,
        )

    return h.run(record)


def make_harness(factory: sessionmaker[Session], clock: ManualClock, seed: bool = True) -> Harness:
    settings = Settings(public_base_url="http://localhost:8000")
    gateway = stripe_test_gateway(settings)
    h = Harness(factory, clock, settings, gateway)
    if seed:
        h.run(lambda db: seed_demo(db, clock=clock))
    return h
