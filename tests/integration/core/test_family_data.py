"""Loi 25 on request: a family's data exported whole (health records included, one-time codes
not), and its personal data deleted while the accounting rows stay, anonymised. Refused while a
place is held or paid unless forced; both audited. SQLite and PostgreSQL, at a set clock."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from backend.adapters.clock import ManualClock
from backend.db.access import AuditEntry, FamilySession, IdentityChallenge
from backend.db.models import (
    Family,
    HealthRecord,
    Installment,
    Line,
    LineStatus,
    Order,
    Person,
    Refund,
)
from backend.db.notifications import Notification
from backend.domain.errors import RegistrationError
from backend.services import auth, family_data, identification
from backend.services.audit import Actor
from tests.integration.core.helpers import Harness, make_harness
from tests.integration.core.test_core import add, deliver, do_checkout, pay

RIVIERE = "Parc de la Rivière"
COORD = Actor(staff_id=None, username="coordo", role="coordinator", via="cli")
HELP = Actor(staff_id=None, username="aide", role="help_desk", via="cli")


@pytest.fixture
def h(session_factory: sessionmaker[Session], clock: ManualClock) -> Harness:
    return make_harness(session_factory, clock)


def _counts(h: Harness) -> dict[str, int]:
    def count(db: Session) -> dict[str, int]:
        return {m.__tablename__: int(db.scalar(select(func.count()).select_from(m)) or 0)
                for m in (Order, Installment, Refund, Line, AuditEntry)}
    return h.run(count)


def _julie_pays_week_2_and_holds_week_3(h: Harness) -> tuple[int, int]:
    paid = add(h, "100001", ("Léa", "Tremblay"), [h.camp_session(RIVIERE, "9-12 ans", 2)])
    order_id = do_checkout(h, "100001")["order_id"]
    assert deliver(h, pay(h, order_id, save=True))["outcome"] == "paid"
    held = add(h, "100001", ("Thomas", "Tremblay"), [h.camp_session(RIVIERE, "7-8 ans", 3)])
    return paid["results"][0]["line_id"], held["results"][0]["line_id"]


def test_export_has_everything_held_on_the_family_but_no_one_time_code(h: Harness) -> None:
    paid_line, held_line = _julie_pays_week_2_and_holds_week_3(h)
    julie = h.family_id("100001")

    def identify(db: Session) -> None:
        identification.start(db, client_number="100001", phone="418-555-0101", clock=h.clock,
                             settings=h.settings)
    h.run(identify)
    code_text = h.notifications("otp", julie)[-1].body

    with pytest.raises(RegistrationError) as refused:
        h.run(lambda db: family_data.export_family(
            db, "100001", clock=h.clock, actor=HELP, settings=h.settings))
    assert refused.value.code == "staff_forbidden"

    data = h.run(lambda db: family_data.export_family(
        db, "100001", clock=h.clock, actor=COORD, settings=h.settings))
    assert data["family"]["phone"] == "+14185550101"
    assert data["family"]["email"] == "julie.tremblay@example.com"
    lea = next(m for m in data["members"] if m["first_name"] == "Léa")
    assert lea["health"]["allergies"] == "Arachides"  # the data is hers to have
    assert {line["id"] for line in data["lines"]} == {paid_line, held_line}
    (order,) = data["orders"]
    assert order["status"] == "paid" and order["paid_cents"] == 9500
    kinds = {m["kind"] for m in data["messages"]}
    assert {"payment_link", "otp"} <= kinds
    assert all(m["body"] is None for m in data["messages"] if m["kind"] == "otp")
    assert code_text not in json.dumps(data, ensure_ascii=False)
    (entry,) = h.run(lambda db: db.scalars(select(AuditEntry)).all())
    assert (entry.action, entry.actor, entry.family_id) == ("family_exported", "coordo", julie)
    assert "Arachides" not in entry.detail and "+1418" not in entry.detail


def test_delete_refuses_while_places_are_held_then_anonymises_when_forced(h: Harness) -> None:
    paid_line, held_line = _julie_pays_week_2_and_holds_week_3(h)
    julie = h.family_id("100001")
    h.run(lambda db: auth.issue_family_token(db, julie, via="code", clock=h.clock, minutes=60))
    before = _counts(h)

    with pytest.raises(RegistrationError) as refused:
        h.run(lambda db: family_data.delete_family(db, "100001", **h.deps, actor=HELP))
    assert refused.value.code == "staff_forbidden"
    with pytest.raises(RegistrationError) as refused:
        h.run(lambda db: family_data.delete_family(db, "100001", **h.deps, actor=COORD))
    assert refused.value.code == "family_has_active_lines" and refused.value.http_status == 409
    assert _counts(h) == before  # nothing deleted, nothing audited

    out = h.run(lambda db: family_data.delete_family(
        db, "100001", force=True, **h.deps, actor=COORD))
    assert out["lines_cancelled"] == [held_line] and out["registrations_kept"] == [paid_line]

    def state(db: Session) -> dict[str, Any]:
        family = db.get(Family, julie)
        assert family is not None
        return {
            "family": (family.client_number, family.phone, family.email, family.address,
                       family.status.value),
            "people": sorted((p.first_name, p.last_name, str(p.birth_date))
                             for p in db.scalars(select(Person).where(Person.family_id == julie))),
            "health": db.scalar(select(func.count()).select_from(HealthRecord).join(Person)
                                .where(Person.family_id == julie)),
            "messages": db.scalar(select(func.count()).select_from(Notification)
                                  .where(Notification.family_id == julie)),
            "sessions": db.scalar(select(func.count()).select_from(FamilySession)
                                  .where(FamilySession.family_id == julie)),
            "challenges": db.scalar(select(func.count()).select_from(IdentityChallenge)
                                    .where(IdentityChallenge.family_id == julie)),
            "card": db.scalar(select(Order.card_token).where(Order.family_id == julie)),
            "lines": {line.id: line.status for line in db.scalars(
                select(Line).where(Line.id.in_([paid_line, held_line])))},
        }

    after = h.run(state)
    assert after["family"] == (f"supprime-{julie}", "", None, "", "locked")
    # Léa (paid registration) and the payer (on the order) stay as nameless rows; Thomas,
    # whose only line was a hold, is gone.
    assert after["people"] == [("Supprimé", "", "1900-01-01")] * 2
    assert after["health"] == after["messages"] == after["sessions"] == after["challenges"] == 0
    assert after["card"] is None
    assert after["lines"] == {paid_line: LineStatus.CONFIRMED, held_line: LineStatus.CANCELLED}
    counts = _counts(h)
    # Orders, installments, refunds and lines stay; two audit rows: the hold's cancellation and
    # the deletion itself.
    assert {k: v for k, v in counts.items() if k != "audit_log"} == {
        k: v for k, v in before.items() if k != "audit_log"}
    assert counts["audit_log"] == before["audit_log"] + 2
    entry = h.run(lambda db: db.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first())
    assert entry.action == "family_deleted" and json.loads(entry.detail)["forced"] is True
    assert "Tremblay" not in entry.detail
    h.assert_capacity_exact()  # the hold's place went back
    assert h.run(lambda db: db.scalar(select(Family.id).where(
        Family.client_number == "100001"))) is None


def test_a_family_without_places_is_deleted_without_force(h: Harness) -> None:
    marc = h.family_id("100002")
    out = h.run(lambda db: family_data.delete_family(db, "100002", **h.deps, actor=COORD))
    assert out["people_deleted"] == 2 and out["people_anonymised"] == 0
    assert out["lines_cancelled"] == [] and out["registrations_kept"] == []
    assert h.run(lambda db: db.scalar(select(func.count()).select_from(Person)
                                      .where(Person.family_id == marc))) == 0
