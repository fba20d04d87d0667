"""Staff running registration night: open a rush for a season, pause, resume and close it,
change its rate and cap while it runs, see where it stands, and (demo mode only) fill it with
simulated families. Every change is checked against the caller's role and audited, in the
change's own transaction; the API and the CLI both come here."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.adapters.clock import Clock
from backend.db.models import AccountStatus, Family, Person, Season
from backend.db.waiting_room import Rush, RushEntry
from backend.domain import waiting_room as rules
from backend.domain.errors import RegistrationError
from backend.domain.roles import Action, require
from backend.domain.waiting_room import EntryStatus, RushState
from backend.services import audit, rush_admission, waiting_room
from backend.services.audit import Actor
from backend.settings import Settings

MAX_RATE = 10_000
MAX_CAP = 100_000
MAX_SIMULATED = 20_000


def _check_limits(rate_per_minute: float | None, cap: int | None) -> None:
    fields: dict[str, str] = {}
    if rate_per_minute is not None and not 0 <= rate_per_minute <= MAX_RATE:
        fields["rate_per_minute"] = f"0..{MAX_RATE}"
    if cap is not None and not 1 <= cap <= MAX_CAP:
        fields["cap"] = f"1..{MAX_CAP}"
    if fields:
        raise RegistrationError("invalid_request", fields=fields)


def _rush(db: Session, rush_id: int) -> Rush:
    rush = db.scalars(select(Rush).where(Rush.id == rush_id).with_for_update()).one_or_none()
    if rush is None:
        raise RegistrationError("not_found")
    return rush


def open_rush(
    db: Session,
    season_id: int,
    *,
    opens_at: datetime,
    rate_per_minute: float,
    cap: int,
    clock: Clock,
    actor: Actor,
) -> dict[str, Any]:
    """A rush for the season from `opens_at` (naive UTC). One at a time per season."""
    require(actor.role, Action.RUSH)
    _check_limits(rate_per_minute, cap)
    if db.get(Season, season_id) is None:
        raise RegistrationError("not_found")
    if waiting_room.open_rush_id(db, season_id) is not None:
        raise RegistrationError("invalid_request", fields={"season_id": "rush_exists"})
    now = clock.now()
    rush = Rush(
        season_id=season_id,
        state=RushState.OPEN,
        opens_at=opens_at,
        rate_per_minute=float(rate_per_minute),
        cap=cap,
        credit=0.0,
        last_seq=0,
        admitted_through=0,
        created_at=now,
    )
    db.add(rush)
    db.flush()
    detail = {"season_id": season_id, "opens_at": opens_at.isoformat(),
              "rate_per_minute": rush.rate_per_minute, "cap": cap}
    audit.record(db, actor, "rush_open", target_type="rush", target_id=rush.id, clock=clock,
                 detail=detail)
    return status(db, rush.id, clock=clock, actor=actor)


_MOVES: dict[str, tuple[frozenset[RushState], RushState]] = {
    "pause": (frozenset({RushState.OPEN}), RushState.PAUSED),
    "resume": (frozenset({RushState.PAUSED}), RushState.OPEN),
    "close": (frozenset({RushState.OPEN, RushState.PAUSED}), RushState.CLOSED),
}


def move(db: Session, rush_id: int, how: str, *, clock: Clock, actor: Actor) -> dict[str, Any]:
    """pause | resume | close. A move the rush's state does not allow: invalid_request."""
    require(actor.role, Action.RUSH)
    allowed, target = _MOVES[how]
    rush = _rush(db, rush_id)
    if rush.state not in allowed:
        raise RegistrationError("invalid_request", fields={"state": rush.state.value})
    before = rush.state
    rush.state = target
    if target == RushState.CLOSED:
        rush.closed_at = clock.now()
    elif rush.opens_at <= clock.now():
        # the rate counts running time only: a pause saves up no crowd for its resumption
        rush.credited_at = clock.now()
    audit.record(db, actor, f"rush_{how}", target_type="rush", target_id=rush.id, clock=clock,
                 detail={"from": before.value, "to": target.value})
    db.flush()
    return status(db, rush.id, clock=clock, actor=actor)


def set_limits(
    db: Session,
    rush_id: int,
    *,
    rate_per_minute: float | None,
    cap: int | None,
    clock: Clock,
    actor: Actor,
) -> dict[str, Any]:
    """A new rate and/or cap, taken into account from the next admission step."""
    require(actor.role, Action.RUSH)
    _check_limits(rate_per_minute, cap)
    rush = _rush(db, rush_id)
    detail: dict[str, Any] = {}
    if rate_per_minute is not None:
        detail["rate_per_minute"] = [rush.rate_per_minute, float(rate_per_minute)]
        rush.rate_per_minute = float(rate_per_minute)
    if cap is not None:
        detail["cap"] = [rush.cap, cap]
        rush.cap = cap
    audit.record(db, actor, "rush_limits", target_type="rush", target_id=rush.id, clock=clock,
                 detail=detail)
    db.flush()
    return status(db, rush.id, clock=clock, actor=actor)


def status(db: Session, rush_id: int, *, clock: Clock, actor: Actor) -> dict[str, Any]:
    """Where the rush stands (`figures`), for the coordinator running it."""
    require(actor.role, Action.RUSH)
    rush = db.get(Rush, rush_id)
    if rush is None:
        raise RegistrationError("not_found")
    return figures(db, rush, clock.now())


def figures(db: Session, rush: Rush, now: datetime) -> dict[str, Any]:
    """Families waiting (and in the pre-queue), registering now, let in over the last minutes,
    the estimated wait of a family joining now. No role check: the caller made it (the rush's
    coordinator, or the staff's live view)."""
    pre_queue = 0
    if rush.drawn_at is None:
        pre_queue = int(
            db.scalar(
                select(func.count())
                .select_from(RushEntry)
                .where(RushEntry.rush_id == rush.id, RushEntry.seq.is_(None),
                       RushEntry.status == EntryStatus.WAITING)
            )
            or 0
        )
    waiting = rush.last_seq - rush.admitted_through
    observed = waiting_room.observed_rate(db, rush, now)
    return {
        **waiting_room.rush_view(rush, now),
        "pre_queue": pre_queue,
        "waiting": waiting,
        "registering": rush_admission.registering(db, rush.id),
        "admitted_per_minute": round(observed or 0.0, 1),
        "estimated_wait_minutes": rules.estimated_wait_minutes(
            waiting + pre_queue + 1, observed, rush.rate_per_minute
        ),
        "drawn_at": None if rush.drawn_at is None else rush.drawn_at.isoformat(),
    }


def admit_now(
    db: Session, rush_id: int, *, clock: Clock, settings: Settings, actor: Actor
) -> dict[str, Any]:
    """One admission step now (what the workers' loop does every few seconds)."""
    require(actor.role, Action.RUSH)
    if db.get(Rush, rush_id) is None:
        raise RegistrationError("not_found")
    done = rush_admission.step(db, rush_id, clock=clock, settings=settings)
    return {**done, "rush": status(db, rush_id, clock=clock, actor=actor)}


def simulate(
    db: Session,
    rush_id: int,
    families: int,
    *,
    clock: Clock,
    settings: Settings,
    actor: Actor,
) -> dict[str, Any]:
    """Demo mode: `families` made-up family files join the line (a visitor then sees a real
    position and real admissions). Refused outside demo mode: no fake file in a city's data."""
    require(actor.role, Action.RUSH)
    if not settings.demo_mode:
        raise RegistrationError("forbidden")
    if not 1 <= families <= MAX_SIMULATED:
        raise RegistrationError("invalid_request", fields={"families": f"1..{MAX_SIMULATED}"})
    rush = db.get(Rush, rush_id)
    if rush is None or rush.state == RushState.CLOSED:
        raise RegistrationError("not_found")
    now = clock.now()
    start = int(db.scalar(select(func.max(Family.id))) or 0) + 1
    for n in range(start, start + families):
        family = Family(client_number=f"9{n:08d}", phone=f"+1555{n % 10_000_000:07d}",
                        phone_can_text=False, email=None, address="", resident=True,
                        status=AccountStatus.APPROVED, created_at=now)
        family.members.append(Person(first_name="Famille", last_name=f"simulée {n}",
                                     birth_date=date(1985, 1, 1), is_adult=True,
                                     is_payer=True))
        db.add(family)
        db.flush()
        waiting_room.join(db, family.id, season_id=rush.season_id, clock=clock)
    audit.record(db, actor, "rush_simulate", target_type="rush", target_id=rush.id,
                 clock=clock, detail={"families": families})
    return status(db, rush.id, clock=clock, actor=actor)
