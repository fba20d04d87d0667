"""The lookups every service starts from: a family, the current season, the open cart, and
waitlist ranks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.orm import Session, aliased

from backend.db.models import Cart, Family, Line, LineStatus, Season
from backend.domain.errors import RegistrationError


def get_family(db: Session, family_id: int) -> Family:
    family = db.get(Family, family_id)
    if family is None:
        raise RegistrationError("not_found")
    return family


def current_season(db: Session) -> Season:
    """The season being registered for: the latest one (the demo has exactly one)."""
    season = db.scalars(select(Season).order_by(Season.closes_at.desc(), Season.id.desc())).first()
    if season is None:
        raise RegistrationError("not_found")
    return season


# Built once: every reservation sends it before taking places (building it cost more than
# sending it; on SQLite it runs under the single write lock).
_OPEN_CART = (
    select(Cart)
    .where(Cart.family_id == bindparam("family_id"), Cart.is_open.is_(True))
    .order_by(Cart.id)
)


def family_cart(db: Session, family: Family, now: datetime) -> Cart:
    """Each family has one cart; lines leave it by status (confirmed, released…), not by cart."""
    cart = db.scalars(_OPEN_CART, {"family_id": family.id}).first()
    if cart is None:
        cart = Cart(family_id=family.id, is_open=True, created_at=now)
        db.add(cart)
        db.flush()
    return cart


def waitlist_position(db: Session, line: Line) -> int | None:
    """Rank among the entries of the same session still waiting (1..n, FIFO, then id)."""
    return waitlist_positions(db, [line]).get(line.id)


def waitlist_positions(db: Session, lines: Sequence[Line]) -> dict[int, int]:
    """line id -> rank among the entries of its session still waiting (1..n, FIFO, then id),
    for the waitlisted ones among `lines`, in one statement (a cart shows several)."""
    waiting = [
        line.id
        for line in lines
        if line.status == LineStatus.WAITLISTED and line.waitlisted_at is not None
    ]
    if not waiting:
        return {}
    ahead_line = aliased(Line)
    ahead = (
        select(func.count(ahead_line.id))
        .where(
            ahead_line.session_id == Line.session_id,
            ahead_line.status == LineStatus.WAITLISTED,
            or_(
                ahead_line.waitlisted_at < Line.waitlisted_at,
                and_(ahead_line.waitlisted_at == Line.waitlisted_at, ahead_line.id < Line.id),
            ),
        )
        .correlate(Line)
        .scalar_subquery()
    )
    rows = db.execute(select(Line.id, ahead).where(Line.id.in_(sorted(waiting)))).all()
    return {int(line_id): int(n or 0) + 1 for line_id, n in rows}
