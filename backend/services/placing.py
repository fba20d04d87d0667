"""Taking places for new lines: the sessions a request names, loaded with what the checks
read; the child's eligibility; and each session's outcome once its pools are locked
(held | full | waitlisted | already_registered | option_full). Shared by adding weeks and by
replacing one week with another."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload

from backend.db.models import (
    Family,
    Group,
    Line,
    LineOption,
    LineStatus,
    Person,
    Program,
    Season,
    SessionOption,
)
from backend.db.models import Session as ActivitySession
from backend.domain import holds, pricing
from backend.domain.eligibility import check_age
from backend.domain.errors import RegistrationError
from backend.services import capacity, views
from backend.settings import Settings

TSHIRT_SIZES = ("TP", "P", "M", "G", "TG")


# Built once: a reservation's first statement, cheaper to send than to build (on SQLite it
# runs under the single write lock).
_SESSIONS = (
    select(ActivitySession)
    .where(ActivitySession.id.in_(bindparam("ids", expanding=True)))
    .options(
        joinedload(ActivitySession.options),
        joinedload(ActivitySession.group).joinedload(Group.program).joinedload(Program.season),
    )
)


def load_sessions(db: Session, session_ids: Iterable[int]) -> dict[int, ActivitySession]:
    """The sessions with their group, program, season and options, in one statement (a
    session has a handful of options: the joined rows stay few), before any lock is taken.
    not_found when one of them does not exist."""
    wanted = list(dict.fromkeys(session_ids))
    loaded = {s.id: s for s in db.scalars(_SESSIONS, {"ids": wanted}).unique()}
    if any(sid not in loaded for sid in wanted):
        raise RegistrationError("not_found")
    return loaded


def check_eligible(child: Person, season: Season, sessions: Iterable[ActivitySession]) -> None:
    """not_eligible (age, min_age, max_age, reference_date, session_id) for the first session
    the child's age at the reference date does not fit."""
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


def check_size(sessions: Iterable[ActivitySession], size: str | None) -> None:
    """A T-shirt size is required when a program gives one, and must be a known size."""
    if any(s.group.program.needs_tshirt for s in sessions) and size is None:
        raise RegistrationError("invalid_request", fields={"tshirt_size": "required"})
    if size is not None and size not in TSHIRT_SIZES:
        raise RegistrationError("invalid_request", fields={"tshirt_size": list(TSHIRT_SIZES)})


def decide(
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
                line = new_line(
                    db, family, child, cart_id, s, chosen[s.id], size, now, holds_place=False
                )
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
            line = new_line(
                db, family, child, cart_id, s, chosen[s.id], size, now, holds_place=True
            )
            line.status = LineStatus.HELD
            line.hold_expires_at = holds.hold_expires_at(now, settings.hold_minutes)
            result["outcome"] = "held"
            new_lines[s.id] = line
    return results, new_lines


def new_line(
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
