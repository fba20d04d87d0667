"""The family's cart: holds, waitlist entries and offers (docs/API.md, "Cart")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.adapters.clock import Clock, local_date
from backend.adapters.gateway import PaymentGateway
from backend.db.models import (
    AccountStatus,
    Family,
    Line,
    LineOption,
    LineStatus,
    Order,
    OrderStatus,
    Person,
)
from backend.domain import installments as terms_rule
from backend.domain import overlap
from backend.domain.errors import RegistrationError
from backend.domain.season import Window
from backend.domain.states import ACTIVE, IN_CART, InstallmentStatus
from backend.services import (
    capacity,
    orders,
    overlaps,
    placing,
    queries,
    views,
    waiting_room,
    waitlist,
)
from backend.services.placing import TSHIRT_SIZES
from backend.settings import Settings

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


def shown_lines(db: Session, family_id: int) -> list[Line]:
    """`cart_lines(for_view=True)` of an existing family (not_found otherwise). A line's person
    belongs to a family (foreign keys): only an empty cart leaves the family's existence to
    check, one statement fewer on every cart with something in it."""
    lines = cart_lines(db, family_id, for_view=True)
    if not lines:
        queries.get_family(db, family_id)
    return lines


def cart_view(db: Session, family_id: int, *, clock: Clock, settings: Settings) -> dict[str, Any]:
    """`<Cart>`: the family's held, waitlisted and offered lines, totals, allowed installments.
    `total_cents` counts every line shown; `payable_cents` only held and offered ones (a
    waitlisted line is never billed)."""
    lines = shown_lines(db, family_id)
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
    if not session_ids:
        raise RegistrationError("invalid_request", fields={"session_ids": "required"})
    wanted_ids = list(dict.fromkeys(session_ids))
    loaded = placing.load_sessions(db, wanted_ids)
    waiting_room.guard(db, family_id, wanted_ids, clock=clock)
    sessions = [loaded[sid] for sid in wanted_ids]
    # The child is read with their family and their lines that may overlap these sessions,
    # and row-locked before any pool (services/overlaps.py): those lines cannot change until
    # the commit.
    child, taken_lines = overlaps.lock_child_and_read(
        db, child_id, sessions, now=clock.now(), with_family=True
    )
    if child is None or child.family_id != family_id or child.is_adult:
        raise RegistrationError("not_found")
    family = child.family
    season = sessions[0].group.program.season
    if any(s.group.program.season_id != season.id for s in sessions):
        raise RegistrationError("invalid_request", fields={"session_ids": "one_season"})
    window = Window(season.residents_open_at, season.nonresidents_open_at, season.closes_at)
    check_can_register(family, window, clock=clock)
    placing.check_eligible(child, season, sessions)
    codes = list(dict.fromkeys(options))
    for s in sessions:
        offered = {o.code for o in s.options}
        missing = [c for c in codes if c not in offered]
        if missing:
            raise RegistrationError("invalid_request", fields={"options": missing})
    size = tshirt_size or child.tshirt_size
    placing.check_size(sessions, size)
    slots = [overlaps.slot_of(s) for s in sessions]
    if any(overlap.overlaps(a, b) for i, a in enumerate(slots) for b in slots[i + 1 :]):
        raise RegistrationError("invalid_request", fields={"session_ids": "overlapping"})
    conflicts = {s.id: overlaps.conflict_for(s, taken_lines) for s in sessions}
    for s in sessions:
        conflict = conflicts[s.id]
        if conflict is not None and not join_waitlist:
            # Nothing is taken for a week the child could not hold anyway.
            raise overlaps.refusal(s.id, conflict)

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
    results, new_lines = placing.decide(
        db,
        family,
        child,
        cart.id,
        sorted(sessions, key=lambda s: s.id),
        codes,
        size,
        join_waitlist,
        existing=existing,
        now=now,
        settings=settings,
    )
    for s in sessions:
        conflict = conflicts[s.id]
        # Waiting for a week may overlap a held one; holding both may not. The refusal rolls
        # the whole request back: the places just taken are given back with it.
        if conflict is not None and results[s.id]["outcome"] == "held":
            raise overlaps.refusal(s.id, conflict)
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


def own_cart_line(db: Session, family_id: int, line_id: int) -> Line:
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
    line = own_cart_line(db, family_id, line_id)
    waiting_room.guard(db, family_id, [line.session_id], clock=clock)
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
    line = own_cart_line(db, family_id, line_id)
    waiting_room.guard(db, family_id, [line.session_id], clock=clock)
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
