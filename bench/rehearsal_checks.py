"""What bench/rush_rehearsal.py reads from the database once the backend stopped: the night's
figures (admissions per minute before and after the staff's change, waits, places sold per
minute) and the integrity checks, each a sentence with what broke it, if anything did."""

from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from rehearsal_families import Journey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.db.access import AuditEntry
from backend.db.models import CapacityPool, Line, LineOption, LineStatus, Order, SessionOption
from backend.db.models import Session as ActivitySession
from backend.db.waiting_room import Rush, RushEntry
from backend.domain import waiting_room as rules
from backend.domain.states import ACTIVE, PLACE_HOLDING
from backend.domain.waiting_room import EntryStatus
from backend.services import queries

MINUTE = timedelta(minutes=1)


@dataclass
class Figures:
    admitted_per_minute_before: float
    admitted_per_minute_after: float
    rate_before: float
    rate_after: float
    longest_wait_minutes: float
    median_wait_minutes: float
    places_sold: int
    sold_per_minute: float
    sold_peak_minute: int
    night_minutes: float
    offers: int  # waitlisted lines offered a freed place (abandoned holds coming back)
    outcomes: Counter[str] = field(default_factory=Counter)


@dataclass
class Checks:
    failed: dict[str, list[str]] = field(default_factory=dict)
    passed: list[str] = field(default_factory=list)

    def check(self, name: str, problems: list[str]) -> None:
        if problems:
            self.failed[name] = problems
        else:
            self.passed.append(name)

    @property
    def ok(self) -> bool:
        return not self.failed


def _saturated_rate(entries: list[RushEntry], start: datetime, end: datetime) -> float:
    """Admissions per minute over the whole minutes of [start, end) at whose end families were
    still waiting (a minute with an empty line says nothing about the rate)."""
    counts: list[int] = []
    t = start
    while t + MINUTE <= end:
        stop = t + MINUTE
        waiting = sum(1 for e in entries if e.joined_at < stop
                      and (e.admitted_at is None or e.admitted_at >= stop))
        if waiting:
            counts.append(sum(1 for e in entries if e.admitted_at is not None
                              and t <= e.admitted_at < stop))
        t = stop
    return statistics.mean(counts) if counts else 0.0


def figures(db: Session, rush_id: int, journeys: list[Journey]) -> Figures:
    rush = db.get(Rush, rush_id)
    assert rush is not None
    entries = list(db.scalars(select(RushEntry).where(RushEntry.rush_id == rush_id)))
    change = db.scalars(select(AuditEntry).where(AuditEntry.action == "rush_limits")
                        .order_by(AuditEntry.id)).first()
    last = max((e.admitted_at for e in entries if e.admitted_at), default=rush.opens_at)
    changed_at = change.at if change is not None else last
    detail = json.loads(change.detail or "{}") if change is not None else {}
    rates = detail.get("rate_per_minute")
    before, after = (rates if rates else (rush.rate_per_minute, rush.rate_per_minute))
    waits = [(e.admitted_at - e.joined_at) / MINUTE for e in entries if e.admitted_at]
    sold = db.execute(select(Order.created_at, func.count(Line.id))
                      .join(Line, Line.order_id == Order.id)
                      .where(Order.idempotency_key.is_not(None)).group_by(Order.id)).all()
    per_minute: Counter[datetime] = Counter()
    for created, n in sold:
        per_minute[created.replace(second=0, microsecond=0)] += int(n)
    total = sum(per_minute.values())
    span = ((max(per_minute) - min(per_minute)) / MINUTE + 1) if per_minute else 1.0
    return Figures(
        admitted_per_minute_before=_saturated_rate(entries, rush.opens_at, changed_at),
        # the first minute after the change still has the old rate's steps in it
        admitted_per_minute_after=_saturated_rate(entries, changed_at + MINUTE, last),
        rate_before=float(before), rate_after=float(after),
        longest_wait_minutes=max(waits, default=0.0),
        median_wait_minutes=statistics.median(waits) if waits else 0.0,
        places_sold=total, sold_per_minute=total / span,
        sold_peak_minute=max(per_minute.values(), default=0),
        night_minutes=(last - rush.opens_at) / MINUTE,
        offers=int(db.scalar(select(func.count(Line.id)).where(Line.offered_at.is_not(None)))
                   or 0),
        outcomes=Counter(j.outcome for j in journeys),
    )


def _queue_checks(db: Session, rush: Rush, journeys: list[Journey], checks: Checks) -> None:
    entries = list(db.scalars(select(RushEntry).where(RushEntry.rush_id == rush.id)))
    per_family = Counter(e.family_id for e in entries)
    seqs = Counter(e.seq for e in entries if e.seq is not None)
    checks.check("no family admitted twice (one place per family, each sequence once)",
                 [f"family {f}: {n} places" for f, n in per_family.items() if n > 1]
                 + [f"sequence {s} given {n} times" for s, n in seqs.items() if n > 1])
    by_family = {e.family_id: e for e in entries}
    lost: list[str] = []
    for j in journeys:
        e = by_family.get(j.household.family_id)
        if j.joined and e is None:
            lost.append(f"family {j.household.family_id} joined and has no place")
        elif j.admitted_seen and e is not None and e.status == EntryStatus.WAITING:
            lost.append(f"family {e.family_id} was told admitted and is back waiting")
    waiting = sorted(int(e.seq or 0) for e in entries if e.status == EntryStatus.WAITING)
    for e in entries:
        if e.seq is None:
            lost.append(f"family {e.family_id} never drawn from the pre-queue")
        elif e.seq <= rush.admitted_through and e.status == EntryStatus.WAITING:
            lost.append(f"family {e.family_id} passed over (seq {e.seq})")
        elif e.seq > rush.admitted_through and e.status != EntryStatus.WAITING:
            lost.append(f"family {e.family_id} let in out of order (seq {e.seq})")
    positions = [rules.position_from_frontier(s, rush.admitted_through) for s in waiting]
    if positions != list(range(1, len(waiting) + 1)):
        lost.append(f"positions of the {len(waiting)} waiting families are not 1..n")
    if any(rules.position(s, waiting) != p for s, p in zip(waiting, positions, strict=True)):
        lost.append("a stored position disagrees with the families actually ahead")
    checks.check("no family lost (admitted, finished, or waiting at an exact position)", lost)
    events: list[tuple[datetime, int]] = []
    for e in entries:
        if e.admitted_at is not None:
            events.append((e.admitted_at, 1))
            if e.finished_at is not None:
                events.append((e.finished_at, -1))
    registering, peak = 0, 0
    for _at, step in sorted(events, key=lambda ev: (ev[0], ev[1])):  # releases first
        registering += step
        peak = max(peak, registering)
    checks.check(f"never more than the cap registering at once (peak {peak}, cap {rush.cap})",
                 [f"{peak} registering at once"] if peak > rush.cap else [])


def _place_checks(db: Session, checks: Checks) -> None:
    holders: Counter[int] = Counter()
    for pool_id, n in db.execute(
        select(ActivitySession.pool_id, func.count(Line.id))
        .join(Line, Line.session_id == ActivitySession.id)
        .where(Line.status.in_(list(PLACE_HOLDING))).group_by(ActivitySession.pool_id)
    ):
        holders[int(pool_id)] += int(n)
    for pool_id, n in db.execute(
        select(SessionOption.pool_id, func.count(LineOption.id))
        .join(LineOption, LineOption.session_option_id == SessionOption.id)
        .join(Line, Line.id == LineOption.line_id)
        .where(LineOption.holds_place.is_(True), Line.status.in_(list(PLACE_HOLDING)))
        .group_by(SessionOption.pool_id)
    ):
        holders[int(pool_id)] += int(n)
    problems = []
    for pool in db.scalars(select(CapacityPool)):
        if pool.taken > pool.capacity or pool.taken != holders.get(pool.id, 0):
            problems.append(f"pool {pool.id}: capacity {pool.capacity}, taken {pool.taken}, "
                            f"lines holding it {holders.get(pool.id, 0)}")
    checks.check("no group-week (nor option) overbooked; places taken = lines holding them",
                 problems)
    waitlisted = list(db.scalars(select(Line).where(Line.status == LineStatus.WAITLISTED)))
    ranks = queries.waitlist_positions(db, waitlisted)
    by_session: dict[int, list[int]] = defaultdict(list)
    for line in waitlisted:
        by_session[line.session_id].append(ranks.get(line.id, 0))
    checks.check(f"waitlist ranks 1..n without gaps ({len(waitlisted)} lines, "
                 f"{len(by_session)} group-weeks)",
                 [f"session {s}: ranks {sorted(r)[:10]}…" for s, r in by_session.items()
                  if sorted(r) != list(range(1, len(r) + 1))])


def _registration_checks(db: Session, journeys: list[Journey], checks: Checks) -> None:
    twice = db.execute(
        select(Line.person_id, Line.session_id, func.count(Line.id))
        .where(Line.status.in_(list(ACTIVE))).group_by(Line.person_id, Line.session_id)
        .having(func.count(Line.id) > 1)
    ).all()
    problems = [f"child {p} twice in session {s}" for p, s, _n in twice]
    # orders placed at checkout carry the parent's idempotency key; a waitlist offer makes an
    # order of its own (no key) for the one offered line
    orders = Counter(f for (f,) in db.execute(
        select(Order.family_id).where(Order.idempotency_key.is_not(None))))
    for order_id, n in db.execute(
        select(Order.id, func.count(Line.id)).join(Line, Line.order_id == Order.id)
        .where(Order.idempotency_key.is_(None)).group_by(Order.id)
    ):
        if n != 1:
            problems.append(f"waitlist offer order {order_id}: {n} lines")
    for j in journeys:
        family = j.household.family_id
        expected = 1 if j.order_id is not None else 0
        if orders.get(family, 0) != expected:
            problems.append(f"family {family}: {orders.get(family, 0)} orders, "
                            f"{expected} checked out")
        if j.order_id is not None:
            lines = set(db.scalars(select(Line.id).where(Line.order_id == j.order_id)))
            # a waitlisted line may have been offered a place since: it is paid along
            if lines != j.checked_out_lines or not lines <= j.cart_lines:
                problems.append(f"order {j.order_id}: lines {sorted(lines)} in the database, "
                                f"{sorted(j.checked_out_lines)} shown to the parent, whose cart "
                                f"had {sorted(j.cart_lines)}")
    checks.check("each registration exactly once (no child twice in a week, one order per "
                 "checkout, with the lines the parent was shown, all from its own cart)", problems)


def integrity(db: Session, rush_id: int, journeys: list[Journey]) -> Checks:
    checks = Checks()
    rush = db.get(Rush, rush_id)
    assert rush is not None
    _queue_checks(db, rush, journeys, checks)
    _place_checks(db, checks)
    _registration_checks(db, journeys, checks)
    return checks
