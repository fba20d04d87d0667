"""Replacing one line of the cart with another session for the same child, in one transaction:
the new place is taken before the old one is given back, so a parent never loses a held week
for one that turns out to be full (docs/API.md, "Replace a line")."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.adapters.clock import Clock
from backend.adapters.gateway import PaymentGateway
from backend.db.models import Line, LineStatus
from backend.domain.errors import RegistrationError
from backend.domain.season import Window
from backend.domain.states import ACTIVE, IN_CART
from backend.services import capacity, overlaps, placing, queries, waiting_room, waitlist
from backend.services.cart import (
    PAYABLE,
    cancel_pending_order,
    cart_view,
    check_can_register,
    own_cart_line,
)
from backend.settings import Settings


def replace_line(
    db: Session,
    family_id: int,
    line_id: int,
    *,
    session_id: int,
    join_waitlist: bool = False,
    clock: Clock,
    settings: Settings,
    gateway: PaymentGateway,
    with_cart: bool = True,
) -> dict[str, Any]:
    """Hold the child a place in `session_id` (same options where the new session offers them,
    same T-shirt size) and release `line_id`; its place goes to the waitlist as when a line is
    removed. A full session: session_full and nothing changes, or with `join_waitlist` a
    waitlist entry is added and the old line stays held.

    `{"outcome": "held" | "waitlisted", "line_id", "replaced_line_id", "waitlist_position",
    "options_dropped", "cart": <Cart> | None}`. Raises (nothing changed): not_found,
    already_registered, account_pending, account_locked, registration_not_open, not_eligible,
    invalid_request, overlapping_session, session_full, option_full."""
    family = queries.get_family(db, family_id)
    old = own_cart_line(db, family_id, line_id)
    child = old.person
    if session_id == old.session_id:
        raise RegistrationError("already_registered", session_id=session_id)
    new = placing.load_sessions(db, [session_id])[session_id]
    waiting_room.guard(db, family_id, [old.session_id, session_id], clock=clock)
    season = new.group.program.season
    window = Window(season.residents_open_at, season.nonresidents_open_at, season.closes_at)
    check_can_register(family, window, clock=clock)
    placing.check_eligible(child, season, [new])
    offered = {o.code for o in new.options}
    kept = [o.session_option.code for o in old.options]
    codes = [c for c in kept if c in offered]
    size = old.tshirt_size or child.tshirt_size
    placing.check_size([new], size)
    # The child's lock before the pools' (services/overlaps.py); the line being replaced is
    # not a conflict: it goes when the new place is held.
    _, taken_lines = overlaps.lock_child_and_read(
        db, child.id, [new], now=clock.now(), except_line_ids=[old.id]
    )
    conflict = overlaps.conflict_for(new, taken_lines)
    if conflict is not None and not join_waitlist:
        raise overlaps.refusal(new.id, conflict)

    cart = queries.family_cart(db, family, clock.now())
    chosen_pools = [o.pool_id for o in new.options if o.code in codes]
    scope = {new.id, old.session_id} | waitlist.sessions_sharing_expired_places(
        db, chosen_pools, now=clock.now()
    )
    capacity.lock_sessions(db, scope)
    now = clock.now()
    survey = waitlist.survey_sessions(db, scope, now=now, person_id=child.id)
    existing = survey[new.id].existing_line if new.id in survey else None
    cascaded = any(st.needs_cascade for st in survey.values())
    if cascaded:
        waitlist.expire_and_cascade(
            db, clock=clock, settings=settings, gateway=gateway, session_ids=scope
        )
        existing = db.scalar(
            select(Line.id).where(
                Line.person_id == child.id,
                Line.session_id == new.id,
                Line.status.in_(list(ACTIVE)),
            )
        )
    if existing is not None:
        raise RegistrationError("already_registered", session_id=new.id, line_id=existing)
    results, new_lines = placing.decide(
        db, family, child, cart.id, [new], codes, size, join_waitlist,
        existing={}, now=now, settings=settings,
    )  # fmt: skip
    result = results[new.id]
    outcome = result["outcome"]
    # Each refusal below rolls the whole transaction back: the old line keeps its place.
    if outcome == "full":
        raise RegistrationError("session_full", session_id=new.id)
    if outcome == "option_full":
        raise RegistrationError("option_full", option=result["option"], session_id=new.id)
    if outcome == "held":
        if conflict is not None:
            raise overlaps.refusal(new.id, conflict)
        _release(db, old, clock=clock, settings=settings, gateway=gateway)
    db.flush()
    line = new_lines[new.id]
    position = None
    if line.status == LineStatus.WAITLISTED:
        position = (
            queries.waitlist_position(db, line) if cascaded else survey[new.id].waiting_before + 1
        )
    return {
        "outcome": outcome,
        "line_id": line.id,
        "replaced_line_id": old.id,
        "waitlist_position": position,
        "options_dropped": [c for c in kept if c not in offered],
        "cart": cart_view(db, family_id, clock=clock, settings=settings) if with_cart else None,
    }


def _release(
    db: Session, old: Line, *, clock: Clock, settings: Settings, gateway: PaymentGateway
) -> None:
    """The replaced line leaves the cart, as a removal does. Its hold may have expired and been
    released by the cascade just before: then there is nothing left to give back."""
    was = old.status
    if was not in IN_CART or not capacity.move(db, old, [was], LineStatus.CANCELLED):
        return
    cancel_pending_order(db, old.order_id)
    if was in PAYABLE:
        capacity.release_line_places(db, old)
        waitlist.offer_free_places(
            db, old.session_id, clock=clock, settings=settings, gateway=gateway
        )
