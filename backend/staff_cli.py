"""`python -m backend.staff_cli`: the city help desk's and IT admin's command line.

The same services as the staff HTTP routes (`backend/services/staff.py`, …), each command in one
transaction run through `run_transaction` (retried like the API's), on DATABASE_URL. Output is
JSON (UTF-8, readable French); a refusal prints the same French message the API gives and exits
with status 1. See docs/OPERATIONS.md.

    python -m backend.staff_cli approve 100003
    python -m backend.staff_cli family 100001          # file, cart and orders by client number
    python -m backend.staff_cli capacity 17 25         # session 17 gets 25 places
    python -m backend.staff_cli cancel 42              # cancel line 42 (refund if it was paid)
    python -m backend.staff_cli season 1 normal        # deferred -> normal: payment links go out
    python -m backend.staff_cli jobs                   # expiries, offers, installments, outbox
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TextIO, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend import wiring
from backend.adapters.clock import Clock, ManualClock, SystemClock, from_local
from backend.adapters.demo_clock import OffsetClock
from backend.api.common import jsonable
from backend.db.engine import make_engine, make_session_factory, run_transaction
from backend.db.models import Family, Order
from backend.domain.errors import RegistrationError
from backend.i18n import error_message
from backend.services import cart, common, dispatch, staff
from backend.services.family import family_dict
from backend.settings import Settings

T = TypeVar("T")


class Context:
    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.engine = make_engine(settings.database_url)
        self.factory: sessionmaker[Session] = make_session_factory(self.engine)
        # The same gateway the backend builds from these settings (signed, stateless values).
        self.gateway = wiring.local_gateway(settings, clock)
        wiring.configure_branding(settings)

    @property
    def deps(self) -> dict[str, Any]:
        return {"clock": self.clock, "settings": self.settings, "gateway": self.gateway}

    def run(self, fn: Callable[[Session], T]) -> T:
        return run_transaction(self.factory, fn)

    def close(self) -> None:
        self.engine.dispose()


def _family_file(db: Session, client_number: str, ctx: Context) -> dict[str, Any]:
    """What the help desk sees: the file (masked contacts, children, no health details), the
    cart and the orders with their installments."""
    family = db.scalar(select(Family).where(Family.client_number == client_number))
    if family is None:
        raise RegistrationError("not_found")
    orders = db.scalars(select(Order).where(Order.family_id == family.id).order_by(Order.id)).all()
    return {
        "family": family_dict(db, family),
        "cart": cart.cart_view(db, family.id, clock=ctx.clock, settings=ctx.settings),
        "orders": [common.order_dict(db, order) for order in orders],
    }


def _jobs(ctx: Context) -> dict[str, Any]:
    from backend.adapters.email import email_sender_from_settings
    from backend.adapters.sms import sms_sender_from_settings
    from backend.jobs import run_due_jobs

    result: dict[str, Any] = dict(
        run_due_jobs(ctx.factory, clock=ctx.clock, settings=ctx.settings, gateway=ctx.gateway)
    )
    result["outbox_sent"] = asyncio.run(
        dispatch.dispatch_pending(
            ctx.factory,
            clock=ctx.clock,
            sms=sms_sender_from_settings(ctx.settings),
            email=email_sender_from_settings(ctx.settings),
        )
    )
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m backend.staff_cli",
        description="Help desk and IT admin commands (same rules as the staff API).",
    )
    parser.add_argument(
        "--now",
        help="act at this city time (ISO, e.g. 2027-04-20T19:00) instead of the clock",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("approve", help="approve a pending family file")
    p.add_argument("client_number")
    p = sub.add_parser("family", help="show a family's file, cart and orders")
    p.add_argument("client_number")
    p = sub.add_parser("capacity", help="set a session's capacity (freed places go to the list)")
    p.add_argument("session_id", type=int)
    p.add_argument("capacity", type=int)
    p = sub.add_parser("cancel", help="cancel a line (a paid registration is refunded)")
    p.add_argument("line_id", type=int)
    p = sub.add_parser("season", help="switch a season's payment mode")
    p.add_argument("season_id", type=int)
    p.add_argument("payment_mode", choices=["normal", "deferred"])
    sub.add_parser("jobs", help="run expiries, offers, due installments, then send the outbox")
    return parser


def _clock(settings: Settings, now: str | None) -> Clock:
    if now:
        return ManualClock(from_local(datetime.fromisoformat(now)))
    return OffsetClock.demo() if settings.demo_mode else SystemClock()


def main(
    argv: Sequence[str] | None = None,
    *,
    settings: Settings | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    args = _parser().parse_args(argv)
    settings = settings or Settings.from_env()
    ctx = Context(settings, _clock(settings, args.now))
    try:
        result: Any
        if args.command == "approve":
            result = ctx.run(
                lambda db: staff.approve_family(db, args.client_number, clock=ctx.clock)
            )
        elif args.command == "family":
            result = ctx.run(lambda db: _family_file(db, args.client_number, ctx))
        elif args.command == "capacity":
            result = ctx.run(
                lambda db: staff.set_capacity(db, args.session_id, args.capacity, **ctx.deps)
            )
        elif args.command == "cancel":
            result = ctx.run(lambda db: staff.cancel_line(db, args.line_id, **ctx.deps))
        elif args.command == "season":
            result = ctx.run(
                lambda db: staff.set_payment_mode(db, args.season_id, args.payment_mode, **ctx.deps)
            )
        else:
            result = _jobs(ctx)
    except RegistrationError as refusal:
        message = error_message(
            refusal.code,
            refusal.extra,
            city_phone=settings.city_phone,
            city_hours=settings.city_hours,
        )
        print(f"{refusal.code}: {message}", file=err)
        return 1
    finally:
        ctx.close()
    print(json.dumps(jsonable(result), ensure_ascii=False, indent=2), file=out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
