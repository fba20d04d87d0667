"""A small harness over the core services: one transaction per call, like the HTTP layer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from backend.adapters.clock import ManualClock
from backend.adapters.local_gateway import LocalGateway
from backend.db.engine import transaction
from backend.db.models import (
    CapacityPool,
    Family,
    Group,
    Line,
    LineOption,
    LineStatus,
    Notification,
    Person,
    SessionOption,
    Site,
)
from backend.db.models import Session as ActivitySession
from backend.demo import seed_demo
from backend.settings import Settings

T = TypeVar("T")


@dataclass
class Harness:
    factory: sessionmaker[Session]
    clock: ManualClock
    settings: Settings
    gateway: LocalGateway

    def run(self, fn: Callable[[Session], T]) -> T:
        with transaction(self.factory) as db:
            return fn(db)

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


def make_harness(factory: sessionmaker[Session], clock: ManualClock, seed: bool = True) -> Harness:
    settings = Settings(public_base_url="http://localhost:8000")
    gateway = LocalGateway(
        secret="test-gateway-secret",
        webhook_secret="test-webhook-secret",
        webhook_url="http://127.0.0.1:9/unused",
        clock=clock,
    )
    h = Harness(factory, clock, settings, gateway)
    if seed:
        h.run(lambda db: seed_demo(db, clock=clock))
    return h
