"""Staff roles and the audit log on the services: a wrong role changes nothing, every action on
money or personal data leaves exactly one audit row, written or rolled back with the action.
Animators read their own groups' rosters, health records included, and nothing else. SQLite
and PostgreSQL, at a set clock."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from backend.adapters.clock import ManualClock
from backend.db.access import AuditEntry
from backend.db.models import CapacityPool, HealthRecord, Line, LineStatus, Refund
from backend.db.models import Session as ActivitySession
from backend.domain.errors import RegistrationError
from backend.services import staff
from backend.services.audit import Actor
from tests.integration.core.helpers import Harness, make_harness
from tests.integration.core.test_core import add, deliver, do_checkout, pay
from tests.integration.core.test_staff_cancel import recording_gateway

RIVIERE = "Parc de la Rivière"
HELP = Actor(staff_id=None, username="aide", role="help_desk", via="api")
COORD = Actor(staff_id=None, username="coordo", role="coordinator", via="api")


@pytest.fixture
def h(session_factory: sessionmaker[Session], clock: ManualClock) -> Harness:
    harness = make_harness(session_factory, clock)
    harness.gateway = recording_gateway(harness.settings)
    return harness


def _audit(h: Harness) -> list[dict[str, Any]]:
    def read(db: Session) -> list[dict[str, Any]]:
        rows = db.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        return [{"actor": r.actor, "action": r.action, "target": (r.target_type, r.target_id),
                 "at": r.at, "family_id": r.family_id, "detail": json.loads(r.detail)}
                for r in rows]
    return h.run(read)


def _confirmed_line(h: Harness, week: int) -> int:
    add(h, "100001", ("Léa", "Tremblay"), [week])
    order_id = do_checkout(h, "100001")["order_id"]
    assert deliver(h, pay(h, order_id))["outcome"] == "paid"
    return int(h.run(lambda db: db.scalar(select(Line.id).where(Line.order_id == order_id))))


def test_a_paid_registration_is_cancelled_by_a_coordinator_only_and_audited(h: Harness) -> None:
    week = h.camp_session(RIVIERE, "9-12 ans", 2)
    line_id = _confirmed_line(h, week)

    with pytest.raises(RegistrationError) as refused:
        h.run(lambda db: staff.cancel_line(db, line_id, **h.deps, actor=HELP))
    assert refused.value.code == "staff_forbidden" and refused.value.http_status == 403
    assert h.run(lambda db: db.get(Line, line_id).status) == LineStatus.CONFIRMED
    assert h.run(lambda db: db.scalar(select(func.count()).select_from(Refund))) == 0
    assert _audit(h) == []

    out = h.run(lambda db: staff.cancel_line(db, line_id, **h.deps, actor=COORD))
    assert out["refunded_cents"] == 9500
    (entry,) = _audit(h)
    assert entry["actor"] == "coordo" and entry["action"] == "line_cancelled"
    assert entry["target"] == ("line", str(line_id)) and entry["at"] == h.clock.now()
    assert entry["family_id"] == h.family_id("100001")
    assert entry["detail"]["refunded_cents"] == 9500 and entry["detail"]["from"] == "confirmed"
    h.assert_capacity_exact()


def test_capacity_and_approval_are_audited_and_a_refusal_writes_nothing(h: Harness) -> None:
    week = h.camp_session(RIVIERE, "9-12 ans", 3)
    with pytest.raises(RegistrationError) as refused:
        h.run(lambda db: staff.set_capacity(db, week, 30, **h.deps, actor=HELP))
    assert refused.value.code == "staff_forbidden"
    pool = h.run(lambda db: db.get(ActivitySession, week).pool_id)
    assert h.run(lambda db: db.get(CapacityPool, pool).capacity) == 20

    add(h, "100001", ("Léa", "Tremblay"), [week])
    with pytest.raises(RegistrationError):  # below the place taken
        h.run(lambda db: staff.set_capacity(db, week, 0, **h.deps, actor=COORD))
    assert _audit(h) == []

    h.run(lambda db: staff.set_capacity(db, week, 25, **h.deps, actor=COORD))
    h.run(lambda db: staff.approve_family(db, "100003", clock=h.clock, actor=HELP))
    h.run(lambda db: staff.approve_family(db, "100003", clock=h.clock, actor=HELP))  # no-op
    capacity, approval = _audit(h)
    assert capacity["action"] == "capacity_changed" and capacity["detail"] == {"from": 20, "to": 25}
    assert approval["actor"] == "aide" and approval["action"] == "family_approved"
    assert approval["family_id"] == h.family_id("100003")
    assert approval["detail"] == {"from": "pending"}
    animator = Actor(staff_id=None, username="anim", role="animator", via="api")
    with pytest.raises(RegistrationError) as refused:
        h.run(lambda db: staff.approve_family(db, "100004", clock=h.clock, actor=animator))
    assert refused.value.code == "staff_forbidden"


def test_an_animator_reads_only_their_groups_roster_with_health_records(h: Harness) -> None:
    week = h.camp_session(RIVIERE, "9-12 ans", 2)
    _confirmed_line(h, week)
    lea = h.child_id("Léa", "Tremblay")
    assert h.run(lambda db: db.get(HealthRecord, lea).allergies) == "Arachides"  # demo's file
    group = h.run(lambda db: db.get(ActivitySession, week).group_id)
    other_week = h.camp_session(RIVIERE, "7-8 ans", 2)
    other = h.run(lambda db: db.get(ActivitySession, other_week).group_id)
    mine = Actor(staff_id=None, username="anim", role="animator", via="api", groups=(group,))

    roster = h.run(lambda db: staff.group_roster(db, group, actor=mine))
    (child,) = roster["children"]
    assert child["first_name"] == "Léa" and child["sessions"] == [2]
    assert child["health"]["allergies"] == "Arachides"

    for actor, group_id in ((mine, other), (COORD, group), (HELP, group)):
        with pytest.raises(RegistrationError) as refused:
            h.run(lambda db, a=actor, g=group_id: staff.group_roster(db, g, actor=a))
        assert refused.value.code == "staff_forbidden"
    # The help desk's view of the same family carries no health data.
    file = h.run(lambda db: staff.family_file(db, "100001", clock=h.clock,
                                              settings=h.settings, actor=HELP))
    assert "Arachides" not in json.dumps(file, default=str)
    assert "EpiPen" not in json.dumps(file, default=str)
