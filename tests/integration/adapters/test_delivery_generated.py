"""Generated outages and backlogs: whatever the schedule, a message is delivered at most once,
never after its content lapsed, and every message still valid once its provider is back is
delivered.

Hypothesis draws, per channel, when the provider goes down and for how long (up to 30 min), and
a backlog of codes, payment links, offers and confirmations written at random moments with
random validity. The providers are in-process stand-ins that refuse while down, on the
backend's (manual) clock; the outbox is a real SQLite database.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from backend.adapters.clock import ManualClock
from backend.db.base import Base
from backend.db.engine import make_engine, make_session_factory, transaction
from backend.db.models import AccountStatus, Family
from backend.db.notifications import Notification, NotificationStatus
from backend.services import dispatch, outbox

START = datetime(2027, 4, 20, 23, 0)
STEP = timedelta(seconds=15)
# After a provider is back, the longest a message can wait for its next attempt (the cap of the
# backoff) plus one dispatcher pass.
CATCH_UP = timedelta(seconds=dispatch.DEFAULT_POLICY.cap_seconds) + STEP


@dataclass
class Flaky:
    clock: ManualClock
    down_from: timedelta
    down_for: timedelta
    delivered: list[tuple[str, datetime]]

    def down(self) -> bool:
        elapsed = self.clock.now() - START
        return self.down_from <= elapsed < self.down_from + self.down_for

    def back_at(self) -> datetime:
        return START + self.down_from + self.down_for

    async def send(self, *, to: str, body: str, subject: str = "") -> str:
        if self.down():
            raise ConnectionRefusedError("provider down")
        self.delivered.append((body, self.clock.now()))
        return f"id-{len(self.delivered)}"


MESSAGE = st.tuples(
    st.integers(min_value=0, max_value=30 * 60 // 15),  # written at this step
    st.sampled_from(["otp", "payment_link", "waitlist_offer", "confirmation"]),
    st.integers(min_value=1, max_value=48 * 60),  # validity of a link or an offer, minutes
)
OUTAGE = st.tuples(st.integers(0, 20 * 60), st.integers(0, 30 * 60))  # start, length (s)


def _params(kind: str, marker: str, expires: datetime) -> dict[str, object]:
    if kind == "otp":
        return {"code": marker}
    if kind == "confirmation":
        return {"lines": [{"child": marker, "program": "Soccer"}], "paid_cents": 6000}
    url = f"http://localhost:8000/p/{marker}"
    if kind == "payment_link":
        return {"order_id": 1, "url": url, "total_cents": 6000, "due_now_cents": 6000,
                "expires_at": expires.isoformat()}  # fmt: skip
    return {"child": "Noah", "program": "Soccer", "week": 1, "deadline": expires.isoformat(),
            "url": url}  # fmt: skip


async def _scenario(
    messages: list[tuple[int, str, int]], sms_outage: tuple[int, int], mail_outage: tuple[int, int]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/outbox.db")
        Base.metadata.create_all(engine)
        factory = make_session_factory(engine)
        clock = ManualClock(START)
        sms = Flaky(clock, timedelta(seconds=sms_outage[0]), timedelta(seconds=sms_outage[1]), [])
        mail = Flaky(
            clock, timedelta(seconds=mail_outage[0]), timedelta(seconds=mail_outage[1]), []
        )
        plan = sorted((step, n, kind, minutes) for n, (step, kind, minutes) in enumerate(messages))
        end = max(sms.back_at(), mail.back_at(), START + STEP * plan[-1][0]) + CATCH_UP + STEP
        rng = random.Random(1)
        step = 0
        while clock.now() <= end:
            with transaction(factory) as db:
                for at, n, kind, minutes in plan:
                    if at != step:
                        continue
                    family = Family(
                        client_number=f"{100000 + n}", phone=f"+1418555{n:04d}",
                        phone_can_text=True, email=f"p{n}@example.com", resident=True,
                        status=AccountStatus.APPROVED, created_at=clock.now(),
                    )  # fmt: skip
                    db.add(family)
                    db.flush()
                    marker = f"{900000 + n}"
                    expires = clock.now() + timedelta(minutes=minutes)
                    outbox.enqueue(
                        db, clock=clock, family=family, kind=kind,
                        params=_params(kind, marker, expires),
                    )  # fmt: skip
            await dispatch.dispatch_pending(factory, clock=clock, sms=sms, email=mail, rng=rng)
            clock.advance(STEP)
            step += 1

        with transaction(factory) as db:
            rows = db.execute(
                select(Notification, Family.client_number).join(
                    Family, Family.id == Notification.family_id
                )
            ).all()
        engine.dispose()
    assert len(rows) == 2 * len(messages)
    for row, client_number in rows:
        provider = sms if row.channel.value == "sms" else mail
        marker = f"{int(client_number) + 800000}"  # the one written in this family's message
        assert marker in row.body
        copies = [at for body, at in provider.delivered if marker in body]
        assert len(copies) <= 1, (row.kind, marker)  # never twice
        if row.expires_at is not None:
            assert all(at <= row.expires_at for at in copies)  # never stale
        assert row.status in (NotificationStatus.SENT, NotificationStatus.EXPIRED)
        assert (row.status is NotificationStatus.SENT) == (len(copies) == 1)
        available = max(row.created_at, provider.back_at() if provider.down_for else START)
        if row.expires_at is None or row.expires_at > available + CATCH_UP:
            assert row.status is NotificationStatus.SENT, (row.kind, row.channel)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(
    messages=st.lists(MESSAGE, min_size=1, max_size=12),
    sms_outage=OUTAGE,
    mail_outage=OUTAGE,
)
def test_generated_outages_lose_nothing_and_deliver_nothing_twice_or_late(
    messages: list[tuple[int, str, int]], sms_outage: tuple[int, int], mail_outage: tuple[int, int]
) -> None:
    asyncio.run(_scenario(messages, sms_outage, mail_outage))
