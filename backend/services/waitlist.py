"""Expired holds and offers, and offering freed places to the waitlist.

When a place frees, the first waiting line of that session becomes OFFERED: it takes the place
(and, when available, its options' places), leaves the ranking, and gets an order of its own
with a payment link valid until the offer's deadline (default 48 h); the family is told through
the outbox ("waitlist_offer"). The offered line also shows in the family's cart, so the parent
can equally pay it through a normal checkout (which supersedes the offer's order). In a deferred
season an offer asks for no payment and has no order: the parent accepts it by passing the
order, like any held line. An offer not taken in time is RELEASED and the place passes to the
next line.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    DateTime,
    and_,
    bindparam,
    case,
    exists,
    func,
    select,
)
from sqlalchemy.orm import Session

from backend.adapters.clock import Clock
from backend.adapters.gateway import PaymentGateway
from backend.db.models import (
    CapacityPool,
    Line,
    LineOption,
    LineStatus,
    Order,
    OrderStatus,
    PaymentMode,
    SessionOption,
)
from backend.db.models import Session as ActivitySession
from backend.domain import holds
from backend.domain.states import ACTIVE
from backend.services import capacity, orders, outbox, views
from backend.settings import Settings


def expire_and_cascade(
    db: Session,
    *,
    clock: Clock,
    settings: Settings,
    gateway: PaymentGateway,
    session_id: int | None = None,
    session_ids: Collection[int] | None = None,
) -> dict[str, Any]:
    """Release expired holds and offers, offer every free place to the first waiting line.
    Limited to `session_ids` (or `session_id`) when given; the whole catalog otherwise (job).
    The pools of every session concerned are locked first, in canonical order.
    `{"holds_released", "offers_expired", "offers_made", "orders_expired"}`."""
    now = clock.now()
    scope: set[int] | None = None
    if session_ids is not None or session_id is not None:
        scope = set(session_ids or ())
        if session_id is not None:
            scope.add(session_id)
    touched_sessions: set[int] = set()
    touched_orders: set[int] = set()
    holds_released = offers_expired = 0

    expired = select(Line).where(_expired_clause(now))
    if scope is not None:
        expired = expired.where(Line.session_id.in_(sorted(scope)))
    expired_lines = db.scalars(expired.order_by(Line.id)).all()

    # Free places with someone waiting: the ones about to be released, and any left free by a
    # race (a line waitlisted while another transaction freed a place it could not yet see).
    candidates = set(scope) if scope is not None else set()
    if scope is None:
        free_with_waiters = (
            select(ActivitySession.id)
            .join(CapacityPool, CapacityPool.id == ActivitySession.pool_id)
            .where(
                CapacityPool.taken < CapacityPool.capacity,
                exists().where(
                    Line.session_id == ActivitySession.id, Line.status == LineStatus.WAITLISTED
                ),
            )
        )
        candidates |= set(db.scalars(free_with_waiters).all())
    candidates |= {line.session_id for line in expired_lines}
    capacity.lock_sessions(db, candidates)

    for line in expired_lines:
        was = line.status
        if not capacity.move(db, line, [was], LineStatus.RELEASED):
            continue  # another transaction moved it first
        capacity.release_line_places(db, line)
        touched_sessions.add(line.session_id)
        if line.order_id is not None:
            touched_orders.add(line.order_id)
        if was == LineStatus.HELD:
            holds_released += 1
        else:
            offers_expired += 1
            outbox.enqueue(
                db,
                clock=clock,
                family=line.cart.family,
                kind="offer_expired",
                params=views.message_line(db, line),
            )

    orders_expired = _expire_orders(db, touched_orders)

    offers_made = 0
    for sid in _free_with_waiters(db, candidates):
        offers_made += offer_free_places(db, sid, clock=clock, settings=settings, gateway=gateway)
    return {
        "holds_released": holds_released,
        "offers_expired": offers_expired,
        "offers_made": offers_made,
        "orders_expired": orders_expired,
    }


@dataclass(frozen=True)
class SessionSurvey:
    existing_line: int | None  # the person's active line in the session, if any
    needs_cascade: bool  # an expired hold/offer to release, or a free place someone awaits
    # Lines waiting in the session since `now` or earlier: a line waitlisted now, in this
    # transaction, ranks just after them (see `survey_sessions`).
    waiting_before: int


def survey_sessions(
    db: Session, session_ids: Collection[int], *, now: datetime, person_id: int
) -> dict[int, SessionSurvey]:
    """One statement, after the sessions' pools are locked: for each session, the person's
    active line, whether `expire_and_cascade` has anything to do there (on registration night,
    nearly never: the request then skips its statements while other parents wait for the
    same locks), and how many lines wait there since `now` or earlier.

    That count is the waitlist rank, minus one, of a line this transaction waitlists now,
    provided nothing moves the session's waiting lines in between (no cascade ran): lines are
    waitlisted only by `add_lines`, under the session's pool lock, so every waiting line was
    inserted (its id drawn) before this one, and ranks go by (waitlisted_at, id)."""
    if not session_ids:
        return {}
    rows = db.execute(
        _SURVEY,
        {"ids": sorted(set(session_ids)), "now": now, "person_id": person_id},
    ).all()
    return {
        int(sid): SessionSurvey(
            existing_line=None if line_id is None else int(line_id),
            needs_cascade=bool(has_expired) or bool(offerable),
            waiting_before=int(n or 0),
        )
        for sid, line_id, has_expired, offerable, n in rows
    }


def _free_with_waiters(db: Session, session_ids: Collection[int]) -> list[int]:
    """Among `session_ids`, those with a free place and a waiting line, in id order: the only
    ones `offer_free_places` can do anything for (one statement instead of several per
    session, which every add and checkout paid inside its locks)."""
    if not session_ids:
        return []
    return list(
        db.scalars(
            select(ActivitySession.id)
            .join(CapacityPool, CapacityPool.id == ActivitySession.pool_id)
            .where(
                ActivitySession.id.in_(sorted(set(session_ids))),
                CapacityPool.taken < CapacityPool.capacity,
                exists().where(
                    Line.session_id == ActivitySession.id, Line.status == LineStatus.WAITLISTED
                ),
            )
            .order_by(ActivitySession.id)
        ).all()
    )


def _expired_clause(now: datetime | BindParameter[datetime]) -> ColumnElement[bool]:
    """Lines whose hold or offer ran out but that still count in capacity (lazy expiry)."""
    return ((Line.status == LineStatus.HELD) & (Line.hold_expires_at <= now)) | (
        (Line.status == LineStatus.OFFERED) & (Line.offer_expires_at <= now)
    )


def _survey_statement() -> Any:
    """`survey_sessions`' statement, built once: building it took ten times longer than
    running it, and it runs while the weeks' places are locked (docs/BENCHMARKS.md)."""
    now: BindParameter[datetime] = bindparam("now", type_=DateTime())
    own = (
        select(Line.id)
        .where(
            Line.session_id == ActivitySession.id,
            Line.person_id == bindparam("person_id"),
            Line.status.in_(list(ACTIVE)),
        )
        .order_by(Line.id)
        .limit(1)
        .correlate(ActivitySession)
        .scalar_subquery()
    )
    expired = exists().where(Line.session_id == ActivitySession.id, _expired_clause(now))
    waiting = exists().where(
        Line.session_id == ActivitySession.id, Line.status == LineStatus.WAITLISTED
    )
    ahead = (
        select(func.count(Line.id))
        .where(
            Line.session_id == ActivitySession.id,
            Line.status == LineStatus.WAITLISTED,
            Line.waitlisted_at <= now,
        )
        .correlate(ActivitySession)
        .scalar_subquery()
    )
    return (
        select(
            ActivitySession.id,
            own,
            case((expired, 1), else_=0),
            case((and_(CapacityPool.taken < CapacityPool.capacity, waiting), 1), else_=0),
            ahead,
        )
        .join(CapacityPool, CapacityPool.id == ActivitySession.pool_id)
        .where(ActivitySession.id.in_(bindparam("ids", expanding=True)))
    )


_SURVEY = _survey_statement()


def sessions_sharing_expired_places(
    db: Session, option_pool_ids: Collection[int], *, now: datetime
) -> set[int]:
    """Sessions with an expired line still holding a place in one of these option pools (the
    vélo pool is shared by a site's groups for a week): releasing them frees that place."""
    if not option_pool_ids:
        return set()
    rows = db.scalars(
        select(Line.session_id)
        .join(LineOption, LineOption.line_id == Line.id)
        .join(SessionOption, SessionOption.id == LineOption.session_option_id)
        .where(
            SessionOption.pool_id.in_(sorted(set(option_pool_ids))),
            LineOption.holds_place.is_(True),
            _expired_clause(now),
        )
    ).all()
    return set(rows)


def expired_places(db: Session, pool_ids: Collection[int], *, now: datetime) -> dict[int, int]:
    """pool id -> places still counted in `taken` by lines whose hold or offer has expired but
    that were not released yet. Read-only: views subtract them instead of releasing."""
    ids = sorted(set(pool_ids))
    if not ids:
        return {}
    out: dict[int, int] = {}
    own = db.execute(
        select(ActivitySession.pool_id, func.count(Line.id))
        .join(Line, Line.session_id == ActivitySession.id)
        .where(ActivitySession.pool_id.in_(ids), _expired_clause(now))
        .group_by(ActivitySession.pool_id)
    ).all()
    options = db.execute(
        select(SessionOption.pool_id, func.count(LineOption.id))
        .join(LineOption, LineOption.session_option_id == SessionOption.id)
        .join(Line, Line.id == LineOption.line_id)
        .where(
            SessionOption.pool_id.in_(ids), LineOption.holds_place.is_(True), _expired_clause(now)
        )
        .group_by(SessionOption.pool_id)
    ).all()
    for pool_id, n in [*own, *options]:
        out[int(pool_id)] = out.get(int(pool_id), 0) + int(n)
    return out


def _expire_orders(db: Session, order_ids: set[int]) -> int:
    """An unpaid order whose lines are all gone (released or cancelled) is expired."""
    count = 0
    for order_id in sorted(order_ids):
        order = db.get(Order, order_id)
        if order is None or order.status != OrderStatus.AWAITING_PAYMENT:
            continue
        live = db.scalar(
            select(Line.id).where(
                Line.order_id == order_id,
                Line.status.in_([LineStatus.HELD, LineStatus.OFFERED, LineStatus.CONFIRMED]),
            )
        )
        if live is None:
            orders.set_order_status(order, OrderStatus.EXPIRED)
            count += 1
    return count


def offer_free_places(
    db: Session, session_id: int, *, clock: Clock, settings: Settings, gateway: PaymentGateway
) -> int:
    """Offer each free place of the session to the first waiting line; returns offers made."""
    session = db.get(ActivitySession, session_id)
    if session is None:
        return 0
    capacity.lock_sessions(db, [session_id])  # already held when the caller locked first
    now = clock.now()
    made = 0
    while True:
        waiting = db.scalars(
            select(Line)
            .where(Line.session_id == session_id, Line.status == LineStatus.WAITLISTED)
            .order_by(Line.waitlisted_at, Line.id)
            .limit(5)
        ).all()
        if not waiting or not capacity.take(db, session.pool_id):
            return made
        deadline = holds.offer_expires_at(now, settings.offer_hours)
        offered = None
        for line in waiting:
            if capacity.move(
                db,
                line,
                [LineStatus.WAITLISTED],
                LineStatus.OFFERED,
                offered_at=now,
                offer_expires_at=deadline,
                hold_expires_at=None,
            ):
                offered = line
                break
        if offered is None:
            capacity.release(db, session.pool_id)  # all claimed elsewhere: look again
            continue
        _make_offer(db, offered, clock=clock, settings=settings)
        made += 1


def _make_offer(db: Session, line: Line, *, clock: Clock, settings: Settings) -> None:
    # Options were recorded without a place while waiting: take them now if still available,
    # otherwise the offer is for the week alone (and the option is not billed).
    dropped: list[str] = []
    for opt in list(line.options):
        if opt.holds_place:
            continue
        option: SessionOption = opt.session_option
        if capacity.take(db, option.pool_id):
            opt.holds_place = True
        else:
            dropped.append(option.code)
            line.options.remove(opt)
            db.delete(opt)
    db.flush()
    family = line.cart.family
    assert line.offer_expires_at is not None
    if line.session.group.program.season.payment_mode == PaymentMode.DEFERRED:
        # Nothing is charged in a deferred season: the parent accepts the offer by passing
        # the order (the offered line is in the cart), the payment link comes with the season.
        params = views.message_line(db, line) | {
            "deadline": views.iso(line.offer_expires_at),
            "deferred": True,
            "options_unavailable": dropped,
        }
        outbox.enqueue(db, clock=clock, family=family, kind="waitlist_offer", params=params)
        return
    order = orders.create_order(
        db,
        family,
        [line],
        count=1,
        card_on_file_consent=False,
        link_expires_at=line.offer_expires_at,
        idempotency_key=None,
        deferred=False,
        clock=clock,
    )
    params = views.message_line(db, line) | {
        "deadline": views.iso(line.offer_expires_at),
        "url": views.payment_url(settings, order),
        "order_id": order.id,
        "amount_cents": order.total_cents,
        "options_unavailable": dropped,
    }
    outbox.enqueue(db, clock=clock, family=family, kind="waitlist_offer", params=params)


def waitlist_length(db: Session, session_id: int) -> int:
    return int(
        db.scalar(
            select(func.count(Line.id)).where(
                Line.session_id == session_id, Line.status == LineStatus.WAITLISTED
            )
        )
        or 0
    )
