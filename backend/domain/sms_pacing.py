"""How fast texts may be handed to the SMS provider, in which order, and which are worth sending.

A Canadian long code carries about one SMS segment a second; the provider queues the rest (up
to hours) in arrival order. On registration night codes, payment links and admissions would
wait behind confirmations and bot replies, and a six-digit code that lands after it lapsed is
worse than none. So the outbox never gives the provider more than the sending numbers carry: it
keeps its own queue, in priority order, and paces it (a "virtual clock": each segment handed over
moves the moment the capacity is next free by 1 / rate). The provider's queue then stays empty
and what we hand over arrives now; what would arrive after its content lapsed is not sent.

The conversation's own replies are sent by the SMS channel directly, through the same numbers:
`reply_share` of the capacity is left to them, so the outbox never saturates a number the
parent is chatting on (docs/DEPLOYMENT.md "Sizing the sending numbers").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

# Lower goes first. A code is useless in ten minutes; an admission, a payment link or an offer
# are what the parent waits for; everything else (confirmations, reminders) can wait.
URGENT, TIMELY, ROUTINE = 0, 1, 2
_PRIORITY = {
    "otp": URGENT,
    "admission": TIMELY,
    "payment_link": TIMELY,
    "waitlist_offer": TIMELY,
    "installment_failed": TIMELY,
}


def priority(kind: str) -> int:
    return _PRIORITY.get(kind, ROUTINE)


@dataclass(frozen=True)
class SendingCapacity:
    """The city's sending numbers: `senders` numbers (one long code, or a Messaging Service's
    pool), each carrying `segments_per_second` (long code 1, toll-free 3, short code 100)."""

    senders: int = 1
    segments_per_second: float = 1.0
    reply_share: float = 0.5
    # How far ahead of real time the outbox may hand texts over (the provider absorbs that much).
    burst_seconds: float = 2.0
    # A code or link arriving with less life left than this is not worth sending.
    min_useful_seconds: float = 60.0

    @property
    def outbox_rate(self) -> float:
        """Segments per second the outbox may use."""
        return max(1e-6, self.senders * self.segments_per_second * (1.0 - self.reply_share))

    def seconds_for(self, segments: int) -> float:
        return segments / self.outbox_rate


def may_hand_over(next_free_at: datetime, now: datetime, capacity: SendingCapacity) -> bool:
    """True while the numbers are not booked further ahead than the burst allows."""
    return next_free_at <= now + timedelta(seconds=capacity.burst_seconds)


def booked_after(
    next_free_at: datetime, now: datetime, segments: int, capacity: SendingCapacity
) -> datetime:
    """The moment the capacity is next free once a text of `segments` is handed over."""
    return max(next_free_at, now) + timedelta(seconds=capacity.seconds_for(segments))


def arrives_too_late(
    arrival: datetime, expires_at: datetime | None, capacity: SendingCapacity
) -> bool:
    """A text whose content lapses (a code, a link) and that would land with less than the
    useful minimum of its life left."""
    if expires_at is None:
        return False
    return arrival + timedelta(seconds=capacity.min_useful_seconds) > expires_at


def expected_arrival(
    next_free_at: datetime, now: datetime, segments_ahead: int, capacity: SendingCapacity
) -> datetime:
    """When a text would reach the phone with `segments_ahead` queued before it."""
    return max(next_free_at, now) + timedelta(seconds=capacity.seconds_for(segments_ahead))
