"""What the backend forgets by itself, on both databases: a one-time code stops being readable
in the outbox once it has expired, and identification records go a day after they expire."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from backend.adapters.clock import ManualClock
from backend.db.access import FamilySession, IdentityChallenge
from backend.domain.errors import RegistrationError
from backend.jobs import run_due_jobs
from backend.services import identification
from backend.services.retention import CODE_MASK
from tests.integration.core.helpers import Harness, make_harness


@pytest.fixture
def h(session_factory: sessionmaker[Session], clock: ManualClock) -> Harness:
    return make_harness(session_factory, clock)


def _start(h: Harness) -> str:
    started = h.run(
        lambda db: identification.start(
            db, client_number="100001", phone="418-555-0101", clock=h.clock, settings=h.settings
        )
    )
    return str(started["challenge_id"])


def _otp_bodies(h: Harness) -> list[str]:
    return [n.subject + n.body for n in h.notifications("otp", h.family_id("100001"))]


def _code_in(body: str) -> str:
    return next(w for w in body.replace(".", " ").split() if w.isdigit() and len(w) == 6)


def _count(h: Harness, model: type) -> int:
    return int(h.run(lambda db: db.scalar(select(func.count()).select_from(model))) or 0)


def test_a_code_is_masked_in_the_outbox_once_it_has_expired(h: Harness) -> None:
    challenge = _start(h)
    (body,) = _otp_bodies(h)
    code = _code_in(body)

    # Still valid: the outbox keeps it (demo mode shows it there) and the jobs leave it alone.
    h.clock.advance(timedelta(minutes=5))
    assert run_due_jobs(h.factory, **h.deps)["retention"]["codes_masked"] == 0
    assert code in _otp_bodies(h)[0]

    h.clock.advance(timedelta(minutes=6))
    assert run_due_jobs(h.factory, **h.deps)["retention"]["codes_masked"] == 1
    (masked,) = _otp_bodies(h)
    assert code not in masked and CODE_MASK in masked
    assert run_due_jobs(h.factory, **h.deps)["retention"]["codes_masked"] == 0  # once

    # The code itself had expired anyway: masking its copy changes nothing for the parent.
    outcome = h.run(
        lambda db: identification.verify(
            db, challenge_id=challenge, code=code, clock=h.clock, settings=h.settings
        )
    )
    assert isinstance(outcome, RegistrationError)


def test_identification_records_go_a_day_after_they_expire(h: Harness) -> None:
    challenge = _start(h)
    code = _code_in(_otp_bodies(h)[0])
    verified = h.run(
        lambda db: identification.verify(
            db, challenge_id=challenge, code=code, clock=h.clock, settings=h.settings
        )
    )
    assert not isinstance(verified, RegistrationError)
    assert _count(h, IdentityChallenge) == 1 and _count(h, FamilySession) == 1

    h.clock.advance(timedelta(hours=20))  # both expired, less than a day ago
    report = run_due_jobs(h.factory, **h.deps)["retention"]
    assert (report["challenges_deleted"], report["sessions_deleted"]) == (0, 0)

    h.clock.advance(timedelta(days=2))
    report = run_due_jobs(h.factory, **h.deps)["retention"]
    assert (report["challenges_deleted"], report["sessions_deleted"]) == (1, 1)
    assert _count(h, IdentityChallenge) == 0 and _count(h, FamilySession) == 0

    # A parent identifies again as usual afterwards.
    assert _start(h)
