"""`python -m backend.staff_cli --staff <coordinator> rush …`: registration night's waiting room
from the command line, through the same services (and audit) as the staff API.

    rush open --season 1 --opens-at 2027-04-20T19:00 --rate 30 --cap 200
    rush status 1
    rush set 1 --rate 60 --cap 300
    rush pause 1 / rush resume 1 / rush close 1
    rush admit 1                  # one admission step now
    rush simulate 1 --families 500   # demo mode only
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from backend.adapters.clock import from_local
from backend.services import rush_staff
from backend.services.audit import Actor


def add_parser(sub: Any) -> None:
    rush = sub.add_parser("rush", help="registration night's waiting room (coordinator)")
    commands = rush.add_subparsers(dest="rush_command", required=True)
    p = commands.add_parser("open", help="open a rush window for a season")
    p.add_argument("--season", type=int, required=True)
    p.add_argument("--opens-at", required=True, help="city time, e.g. 2027-04-20T19:00")
    p.add_argument("--rate", type=float, required=True, help="families let in per minute")
    p.add_argument("--cap", type=int, required=True, help="families registering at once")
    for name, text in (
        ("status", "where the rush stands"),
        ("pause", "pause admissions"),
        ("resume", "resume admissions"),
        ("close", "close the rush"),
        ("admit", "run one admission step now"),
    ):
        commands.add_parser(name, help=text).add_argument("rush_id", type=int)
    p = commands.add_parser("set", help="change the rate and/or the cap")
    p.add_argument("rush_id", type=int)
    p.add_argument("--rate", type=float)
    p.add_argument("--cap", type=int)
    p = commands.add_parser("simulate", help="demo mode: simulated families join the line")
    p.add_argument("rush_id", type=int)
    p.add_argument("--families", type=int, default=200)


def run(
    args: argparse.Namespace,
    ctx: Any,
    actor_of: Callable[[Session, str | None], Actor],
) -> Any:
    """Run one `rush` command in one transaction (`ctx.run`), done for `--staff`."""
    name = args.staff
    clock, settings = ctx.clock, ctx.settings
    command = args.rush_command
    if command == "open":
        opens_at = datetime.fromisoformat(args.opens_at)
        opens_utc = from_local(opens_at) if opens_at.tzinfo is None else opens_at
        return ctx.run(lambda db: rush_staff.open_rush(
            db, args.season, opens_at=opens_utc.replace(tzinfo=None), rate_per_minute=args.rate,
            cap=args.cap, clock=clock, actor=actor_of(db, name)))
    if command == "status":
        return ctx.run(lambda db: rush_staff.status(
            db, args.rush_id, clock=clock, actor=actor_of(db, name)))
    if command == "set":
        return ctx.run(lambda db: rush_staff.set_limits(
            db, args.rush_id, rate_per_minute=args.rate, cap=args.cap, clock=clock,
            actor=actor_of(db, name)))
    if command == "admit":
        return ctx.run(lambda db: rush_staff.admit_now(
            db, args.rush_id, clock=clock, settings=settings, actor=actor_of(db, name)))
    if command == "simulate":
        return ctx.run(lambda db: rush_staff.simulate(
            db, args.rush_id, args.families, clock=clock, settings=settings,
            actor=actor_of(db, name)))
    return ctx.run(lambda db: rush_staff.move(
        db, args.rush_id, command, clock=clock, actor=actor_of(db, name)))
