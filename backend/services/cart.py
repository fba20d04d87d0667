"""The family's cart: holds, waitlist entries and offers (docs/API.md, "Cart")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from backend.adapters.clock import Clock, local_date
from backend.adapters.gateway import PaymentGateway
from backend.db.models import (
    AccountStatus,
    Family,
    Group,
    Line,
    LineOption,
    LineStatus,
    Order,
    OrderStatus,
    Person,
    Program,
    SessionOption,
)
from backend.db.models import Session as ActivitySession
from backend.domain import holds, pricing
from backend.domain import installments as terms_rule
from backend.domain.eligibility import check_age
from backend.domain.errors import RegistrationError
from backend.domain.season import Window
from backend.domain.states import ACTIVE, IN_CART, InstallmentStatus
from backend.services import capacity, orders, queries, views, waitlist
from backend.settings import Settings

TSHIRT_SIZES = ("TP", "P", "M", "G", "TG")
PAYABLE = (LineStatus.HELD, LineStatus.OFFERED)


def cart_lines(db: Session, family_id: int, *, for_view: bool = False) -> list[Line]:
    """The family's held, waitlisted and offered lines; `for_view` loads what `line_dict`
    and the payment terms read with them (a few statements, whatever the number of lines)."""
    query = (
        select(Line)
        .join(Person, Person.id == Line.person_id)
        .where(Person.family_id == family_id, Line.status.in_(list(IN_CART)))
        .order_by(Line.id)
    )
    if for_view:
        query = query.options(*views.LINE_VIEW_LOADS)
    return list(db.scalars(query).unique().all())


def cart_view(db: Session, family_id: int, *, clock: Clock, settings: Settings) -> dict[str, Any]:
    """`<Cart>`: the family's held, waitlisted and offered lines, totals, allowed installments.
    `total_cents` counts every line shown; `payable_cents` only held and offered ones (a
    waitlisted line is never billed)."""
    queries.get_family(db, family_id)
    lines = cart_lines(db, family_id, for_view=True)
    payable = [line for line in lines if line.status in PAYABLE]
    t = terms_rule.terms(orders.paid_lines(payable), local_date(clock))
    return {
        "lines": views.line_dicts(db, lines),
        "total_cents": sum(views.line_price(line) for line in lines),
        "payable_cents": t.payable_cents,
        "installments": {"allowed": list(t.allowed), "refused_reason": t.refused_reason},
    }


def check_can_register(family: Family, season_window: Window, *, clock: Clock) -> None:
    if family.status == AccountStatus.PENDING:
        raise RegistrationError("account_pending")
    if family.status == AccountStatus.LOCKED:
        raise RegistrationError("account_locked")
    now = clock.now()
    if not season_window.is_open(now, resident=family.resident):
        opens_at = season_window.opens_at(resident=family.resident)
        raise RegistrationError(
            "registration_not_open",
            opens_at=views.iso(opens_at),
            closes_at=views.iso(season_window.closes_at),
            closed=season_window.is_closed(now),
        )


def add_lines(
    db: Session,
    family_id: int,
    *,
    child_id: int,
    session_ids: Sequence[int],
    options: Sequence[str] = (),
    tshirt_size: str | None = None,
    join_waitlist: bool = False,
    clock: Clock,
    settings: Settings,
    gateway: PaymentGateway,
    with_cart: bool = True,
) -> dict[str, Any]:
    """Hold a place for the child in each session: `{"results": [...], "cart": <Cart>}`
    (`"cart": None` with `with_cart=False`: the HTTP layer reads it after the commit, so the
    places' locks are not held while the cart is read).

    Raises (nothing taken): not_found, account_pending, account_locked, registration_not_open
    (opens_at), not_eligible (age, min_age, max_age, reference_date), invalid_request (fields).
    Then each session is decided on its own: held | full | waitlisted (+ waitlist_position) |
    already_registered | option_full (+ option)."""
    family = queries.get_family(db, family_id)
    child = db.get(Person, child_id)
    if child is None or child.family_id != family.id or child.is_adult:
        raise RegistrationError("not_found")
    if not session_ids:
        raise RegistrationError("invalid_request", fields={"session_ids": "required"})
    wanted_ids = list(dict.fromkeys(session_ids))
    # The sessions with what the checks read (group, program, season, options), in two
    # statements, before any lock is taken.
    loaded = {
        s.id: s
        for s in db.scalars(
            select(ActivitySession)
            .where(ActivitySession.id.in_(wanted_ids))
            .options(
                selectinload(ActivitySession.options),
                joinedload(ActivitySession.group)
                .joinedload(Group.program)
                .joinedload(Program.season),
            )
        ).unique()
    }
    if any(sid not in loaded for sid in wanted_ids):
        raise RegistrationError("not_found")
    sessions = [loaded[sid] for sid in wanted_ids]
    season = sessions[0].group.program.season
    if any(s.group.program.season_id != season.id for s in sessions):
        raise RegistrationError("invalid_request", fields={"session_ids": "one_season"})
    window = Window(season.residents_open_at, season.nonresidents_open_at, season.closes_at)
    check_can_register(family, window, clock=clock)
    for s in sessions:
        result = check_age(child.birth_date, season.year, s.group.min_age, s.group.max_age)
        if not result.eligible:
            raise RegistrationError(
                "not_eligible",
                age=result.age,
                min_age=result.min_age,
                max_age=result.max_age,
                reference_date=views.iso(result.reference_date),
                session_id=s.id,
            )
    codes = list(dict.fromkeys(options))
    for s in sessions:
        offered = {o.code for o in s.options}
        missing = [c for c in codes if c not in offered]
        if missing:
            raise RegistrationError("invalid_request", fields={"options": missing})
    size = tshirt_size or child.tshirt_size
    if any(s.group.program.needs_tshirt for s in sessions) and size is None:
        raise RegistrationError("invalid_request", fields={"tshirt_size": "required"})
    if size is not None and size not in TSHIRT_SIZES:
        raise RegistrationError("invalid_request", fields={"tshirt_size": list(TSHIRT_SIZES)})

    cart = queries.family_cart(db, family, clock.now())
    # Lock every pool this request may touch, in pool-id order, before anything else (no
    # deadlock with a request taking the same pools in another order). That includes sessions
    # of other groups whose expired lines still hold a place in a shared option pool (vélo):
    # they are released now, so a place counted by a dead hold is never refused.
    # From here to the commit, other parents wanting these weeks wait: keep it short (a
    # handful of statements, the lines inserted together).
    chosen_pools = [o.pool_id for s in sessions for o in s.options if o.code in codes]
    scope = {s.id for s in sessions} | waitlist.sessions_sharing_expired_places(
        db, chosen_pools, now=clock.now()
    )
    capacity.lock_sessions(db, scope)
    # Expired holds and offers give their places back (to the waitlist first) before we look:
    # capacity stays exact without waiting for the periodic job. One statement says whether
    # there is anything to do at all, and which weeks the child already has.
    now = clock.now()  # one instant: the survey's count and the new lines' waitlisted_at
    survey = waitlist.survey_sessions(db, scope, now=now, person_id=child.id)
    existing = {sid: st.existing_line for sid, st in survey.items()}
    cascaded = any(st.needs_cascade for st in survey.values())
    if cascaded:
        waitlist.expire_and_cascade(
            db, clock=clock, settings=settings, gateway=gateway, session_ids=scope
        )
        existing = dict(
            db.execute(
                select(Line.session_id, Line.id).where(
                    Line.person_id == child.id,
                    Line.session_id.in_(sorted(loaded)),
                    Line.status.in_(list(ACTIVE)),
                )
            ).all()
        )
    results, new_lines = _decide(
        db, family, child, cart.id, sorted(sessions, key=lambda s: s.id), codes, size,
        join_waitlist, existing=existing, now=now, settings=settings,
    )
    db.flush()  # the new lines, in one INSERT
    if cascaded:
        positions = queries.waitlist_positions(db, list(new_lines.values()))
    else:  # the survey counted who waits ahead (one statement less under the locks)
        positions = {
            line.id: survey[sid].waiting_before + 1
            for sid, line in new_lines.items()
            if line.status == LineStatus.WAITLISTED
        }
    for sid, line in new_lines.items():
        results[sid]["line_id"] = line.id
        results[sid]["waitlist_position"] = positions.get(line.id)
    return {
        "results": [results[s.id] for s in sessions],
        "cart": cart_view(db, family_id, clock=clock, settings=settings) if with_cart else None,
    }


def _decide(
    db: Session,
    family: Family,
    child: Person,
    cart_id: int,
    sessions: list[ActivitySession],
    codes: list[str],
    size: str | None,
    join_waitlist: bool,
    *,
    existing: dict[int, int | None],
    now: datetime,
    settings: Settings,
) -> tuple[dict[int, dict[str, Any]], dict[int, Line]]:
    """Each session's outcome, and its new line (added, not flushed). Every pool involved is
    locked by the caller: the places are taken together (one statement for the weeks, one for
    their options) instead of one by one."""
    results: dict[int, dict[str, Any]] = {}
    new_lines: dict[int, Line] = {}
    todo: list[ActivitySession] = []
    for s in sessions:
        results[s.id] = {
            "session_id": s.id,
            "week": s.number,
            "outcome": None,
            "line_id": None,
            "waitlist_position": None,
            "option": None,
        }
        if existing.get(s.id) is not None:
            results[s.id].update(outcome="already_registered", line_id=existing[s.id])
        else:
            todo.append(s)
    chosen = {s.id: [o for o in s.options if o.code in codes] for s in todo}
    with db.no_autoflush:
        got = capacity.take_each(db, [s.pool_id for s in todo])
        for s in todo:
            if s.pool_id in got or not join_waitlist or capacity.is_locked(db, s.pool_id):
                continue
            # Serialise this session's waitlist inserts, then look again: a place may have
            # been given back between our first attempt and the lock. (Callers lock the
            # session's pools before the first attempt: then nothing can have changed.)
            capacity.lock(db, s.pool_id)
            if capacity.take(db, s.pool_id):
                got.add(s.pool_id)
        placed = [s for s in todo if s.pool_id in got]
        # Per placed session: the options it got, and the first one it could not get.
        taken: dict[int, list[SessionOption]] = {s.id: [] for s in placed}
        lacking: dict[int, SessionOption | None] = {s.id: None for s in placed}
        option_pools = [o.pool_id for s in placed for o in chosen[s.id]]
        if len(set(option_pools)) == len(option_pools):
            options_got = capacity.take_each(db, option_pools)
            for s in placed:
                taken[s.id] = [o for o in chosen[s.id] if o.pool_id in options_got]
                lacking[s.id] = next(
                    (o for o in chosen[s.id] if o.pool_id not in options_got), None
                )
        else:  # one pool wanted twice (a shared vélo pool): one place at a time
            for s in placed:
                for o in chosen[s.id]:
                    if not capacity.take(db, o.pool_id):
                        lacking[s.id] = o
                        break
                    taken[s.id].append(o)
        for s in todo:
            result = results[s.id]
            if s.pool_id not in got:
                if not join_waitlist:
                    result["outcome"] = "full"
                    continue
                line = _new_line(db, family, child, cart_id, s, chosen[s.id], size, now,
                                 holds_place=False)
                line.status = LineStatus.WAITLISTED
                line.waitlisted_at = now
                result["outcome"] = "waitlisted"
                new_lines[s.id] = line
                continue
            missing = lacking[s.id]
            if missing is not None:
                # Give back the week and the options it did get: the parent decides.
                for o in taken[s.id]:
                    capacity.release(db, o.pool_id)
                capacity.release(db, s.pool_id)
                result.update(outcome="option_full", option=missing.code)
                continue
            line = _new_line(db, family, child, cart_id, s, chosen[s.id], size, now,
                             holds_place=True)
            line.status = LineStatus.HELD
            line.hold_expires_at = holds.hold_expires_at(now, settings.hold_minutes)
            result["outcome"] = "held"
            new_lines[s.id] = line
    return results, new_lines


def _new_line(
    db: Session,
    family: Family,
    child: Person,
    cart_id: int,
    session: ActivitySession,
    chosen: list[SessionOption],
    size: str | None,
    now: Any,
    *,
    holds_place: bool,
) -> Line:
    needs_size = session.group.program.needs_tshirt
    line = Line(
        cart_id=cart_id,
        person_id=child.id,
        session_id=session.id,
        status=LineStatus.HELD,
        base_price_cents=pricing.session_price(
            resident=family.resident,
            price_resident_cents=session.price_resident_cents,
            price_nonresident_cents=session.price_nonresident_cents,
        ),
        tshirt_size=size if needs_size else None,
        created_at=now,
    )
    for option in chosen:
        line.options.append(
            LineOption(
                session_option=option, price_cents=option.price_cents, holds_place=holds_place
            )
        )
    db.add(line)
    return line


def _own_cart_line(db: Session, family_id: int, line_id: int) -> Line:
    line = db.get(Line, line_id)
    if line is None or line.person.family_id != family_id or line.status not in IN_CART:
        raise RegistrationError("not_found")
    return line


def cancel_pending_order(db: Session, order_id: int | None) -> None:
    """A line leaving an unpaid order makes that order's amount wrong: the order is cancelled
    (its link stops working) and its other lines keep their holds for a new checkout."""
    if order_id is None:
        return
    order = db.get(Order, order_id)
    if order is None or order.status != OrderStatus.AWAITING_PAYMENT:
        return
    orders.set_order_status(order, OrderStatus.CANCELLED)
    for inst in order.installments:
        if inst.status == InstallmentStatus.SCHEDULED:
            inst.status = InstallmentStatus.CANCELLED
    for other in db.scalars(select(Line).where(Line.order_id == order_id)).all():
        if other.status in IN_CART:
            other.order_id = None


def remove_line(
    db: Session,
    family_id: int,
    line_id: int,
    *,
    clock: Clock,
    settings: Settings,
    gateway: PaymentGateway,
) -> dict[str, Any]:
    """Remove a held, waitlisted or offered line; its place goes to the waitlist. `<Cart>`."""
    line = _own_cart_line(db, family_id, line_id)
    capacity.lock_sessions(db, [line.session_id])
    was = line.status
    if not capacity.move(db, line, [was], LineStatus.CANCELLED):
        raise RegistrationError("not_found")
    cancel_pending_order(db, line.order_id)
    if was in PAYABLE:
        capacity.release_line_places(db, line)
        waitlist.offer_free_places(
            db, line.session_id, clock=clock, settings=settings, gateway=gateway
        )
    db.flush()
    return cart_view(db, family_id, clock=clock, settings=settings)


def update_line(
    db: Session,
    family_id: int,
    line_id: int,
    *,
    options: Sequence[str] | None = None,
    tshirt_size: str | None = None,
    clock: Clock,
    settings: Settings,
) -> dict[str, Any]:
    """Change a line's options (None: unchanged) or T-shirt size. `<Cart>` | option_full."""
    line = _own_cart_line(db, family_id, line_id)
    if options is not None:
        capacity.lock_sessions(db, [line.session_id])
    if tshirt_size is not None:
        if tshirt_size not in TSHIRT_SIZES:
            raise RegistrationError("invalid_request", fields={"tshirt_size": list(TSHIRT_SIZES)})
        line.tshirt_size = tshirt_size
    if options is not None:
        wanted = list(dict.fromkeys(options))
        available = {o.code: o for o in line.session.options}
        missing = [c for c in wanted if c not in available]
        if missing:
            raise RegistrationError("invalid_request", fields={"options": missing})
        current = {o.session_option.code: o for o in line.options}
        holding = line.status in PAYABLE
        for code, opt in current.items():
            if code not in wanted:
                if opt.holds_place:
                    capacity.release(db, opt.session_option.pool_id)
                line.options.remove(opt)
                db.delete(opt)
        for code in wanted:
            if code in current:
                continue
            option = available[code]
            # A failure raises: the caller's transaction rolls back every change above.
            if holding and not capacity.take(db, option.pool_id):
                raise RegistrationError("option_full", option=code)
            line.options.append(
                LineOption(
                    session_option=option, price_cents=option.price_cents, holds_place=holding
                )
            )
        if set(current) != set(wanted):
            cancel_pending_order(db, line.order_id)
    db.flush()
    return cart_view(db, family_id, clock=clock, settings=settings)
