"""`python -m backend.staff_cli`: the city help desk's and IT admin's command line.

The same services as the staff HTTP routes (`backend/services/staff.py`, …), each command in one
transaction run through `run_transaction` (retried like the API's), on DATABASE_URL. Output is
JSON (UTF-8, readable French); a refusal prints the same French message the API gives and exits
with status 1. See docs/OPERATIONS.md and docs/STAFF.md.

Every action names the staff account it is done for (`--staff`): its role is checked as the
API would, and the audit log records it (via "cli"). Accounts themselves are managed with
`staff …` by whoever holds DATABASE_URL; passwords are read from the terminal or stdin, never
from the command line.

    python -m backend.staff_cli staff create --username mtremblay --role coordinator
    python -m backend.staff_cli staff create --username anim1 --role animator --group 3
    python -m backend.staff_cli --staff mtremblay approve 100003
    python -m backend.staff_cli --staff mtremblay family 100001   # file, cart and orders
    python -m backend.staff_cli --staff mtremblay capacity 17 25  # session 17 gets 25 places
    python -m backend.staff_cli --staff mtremblay cancel 42       # refund if it was paid
    python -m backend.staff_cli --staff mtremblay season 1 normal # payment links go out
    python -m backend.staff_cli --staff mtremblay jobs            # expiries, offers, outbox
    python -m backend.staff_cli --staff mtremblay audit --limit 20
    python -m backend.staff_cli --staff mtremblay export 100001 --out famille-100001.json
    python -m backend.staff_cli --staff mtremblay delete 100001 [--force]
    python -m backend.staff_cli --staff mtremblay revoke-sessions --client-number 100001
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
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
from backend.db.access import StaffAccount
from backend.db.engine import make_engine, make_session_factory, run_transaction
from backend.db.models import Family
from backend.domain.errors import RegistrationError
from backend.domain.roles import Action, Role, StaffRefusal, require
from backend.i18n import error_message
from backend.services import audit, dispatch, family_data, refund_sender, staff, staff_accounts
from backend.services.audit import Actor
from backend.settings import Settings

T = TypeVar("T")


class Context:
    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.engine = make_engine(settings.database_url)
        self.factory: sessionmaker[Session] = make_session_factory(self.engine)
        # The same gateway the backend builds from these settings.
        self.gateway = wiring.payment_gateway(settings)
        wiring.configure_branding(settings)

    @property
    def deps(self) -> dict[str, Any]:
        return {"clock": self.clock, "settings": self.settings, "gateway": self.gateway}

    def run(self, fn: Callable[[Session], T]) -> T:
        result = run_transaction(self.factory, fn)
        # A cancellation records its refunds; the provider is asked once they are committed.
        refund_sender.send_pending(self.factory, gateway=self.gateway, clock=self.clock)
        return result

    def close(self) -> None:
        self.engine.dispose()


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
    parser.add_argument("--staff", help="the staff account this is done for (audited)")
    sub = parser.add_subparsers(dest="command", required=True)
    _account_parser(sub)
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
    p = sub.add_parser("audit", help="the audit log, newest first (coordinator)")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--action")
    p.add_argument("--family", help="client number")
    p = sub.add_parser("export", help="Loi 25: write everything held on a family to a file")
    p.add_argument("client_number")
    p.add_argument("--out", required=True, help="JSON file to write (created, mode 600)")
    p = sub.add_parser("delete", help="Loi 25: delete a family's personal data")
    p.add_argument("client_number")
    p.add_argument(
        "--force", action="store_true",
        help="even with places held or paid (cart lines cancelled, paid ones anonymised)",
    )
    p = sub.add_parser("revoke-sessions", help="sign a family out of every open chat session")
    p.add_argument("--client-number", required=True)
    return parser


def _account_parser(sub: Any) -> None:
    staff_p = sub.add_parser("staff", help="staff accounts (IT admin)")
    accounts = staff_p.add_subparsers(dest="account_command", required=True)
    p = accounts.add_parser("create", help="a new account; the password is asked for")
    p.add_argument("--username", required=True)
    p.add_argument("--role", required=True, choices=[r.value for r in Role])
    p.add_argument("--group", type=int, action="append", default=[], help="animator's group id")
    accounts.add_parser("list", help="every account, its role and groups")
    for name, text in (
        ("password", "set a new password (asked for); every session is revoked"),
        ("disable", "disable the account; every session is revoked"),
        ("enable", "enable the account again"),
        ("token", "issue a bearer token for a programmatic client"),
        ("revoke", "revoke every session and token of the account"),
    ):
        accounts.add_parser(name, help=text).add_argument("username")
    p = accounts.add_parser("groups", help="set an animator's groups")
    p.add_argument("username")
    p.add_argument("--group", type=int, action="append", default=[])


def _read_password(stdin: TextIO) -> str:
    """From the terminal (asked twice) or, when piped, the first line of stdin."""
    if stdin.isatty():
        first = getpass.getpass("Mot de passe : ")
        if getpass.getpass("Confirmez le mot de passe : ") != first:
            raise RegistrationError("invalid_request", fields={"password": "invalid"})
        return first
    return stdin.readline().rstrip("\r\n")


def _actor(db: Session, username: str | None) -> Actor:
    account = (
        db.scalar(select(StaffAccount).where(StaffAccount.username == username))
        if username
        else None
    )
    if account is None or not account.active:
        raise StaffRefusal("staff_unauthorized")
    return Actor(
        staff_id=account.id,
        username=account.username,
        role=account.role,
        via="cli",
        groups=tuple(g.group_id for g in account.groups),
    )


def _accounts(args: argparse.Namespace, ctx: Context, stdin: TextIO) -> Any:
    command = args.account_command
    clock = ctx.clock
    if command == "create":
        password = _read_password(stdin)
        return ctx.run(
            lambda db: staff_accounts.create_account(
                db, args.username, password, args.role, groups=args.group, clock=clock
            )
        )
    if command == "list":
        return ctx.run(staff_accounts.list_accounts)
    if command == "password":
        password = _read_password(stdin)
        return ctx.run(
            lambda db: staff_accounts.set_password(db, args.username, password, clock=clock)
        )
    if command in ("disable", "enable"):
        active = command == "enable"
        return ctx.run(
            lambda db: staff_accounts.set_active(db, args.username, active, clock=clock)
        )
    if command == "token":
        days = ctx.settings.staff_token_days
        return ctx.run(
            lambda db: staff_accounts.issue_token(db, args.username, clock=clock, days=days)
        )
    if command == "revoke":

        def revoke(db: Session) -> dict[str, Any]:
            account = _actor(db, args.username)
            return {"revoked": staff_accounts.revoke_all(db, account.staff_id or 0, clock=clock)}

        return ctx.run(revoke)
    return ctx.run(lambda db: staff_accounts.set_groups(db, args.username, args.group))


def _family_id(db: Session, client_number: str | None) -> int | None:
    if client_number is None:
        return None
    found = db.scalar(select(Family.id).where(Family.client_number == client_number))
    if found is None:
        raise RegistrationError("not_found")
    return int(found)


def _audit(db: Session, args: argparse.Namespace, actor: Actor) -> list[dict[str, Any]]:
    require(actor.role, Action.READ_AUDIT)
    return audit.entries(
        db, limit=args.limit, action=args.action, family_id=_family_id(db, args.family)
    )


def _export(args: argparse.Namespace, ctx: Context, staff_name: str | None) -> dict[str, Any]:
    def export(db: Session) -> dict[str, Any]:
        data = family_data.export_family(
            db, args.client_number, clock=ctx.clock, actor=_actor(db, staff_name)
        )
        # Written before the transaction commits: no audit row for a file that was not made.
        fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fp:
            json.dump(jsonable(data), fp, ensure_ascii=False, indent=2)
        return {"written": args.out, "members": len(data["members"]),
                "lines": len(data["lines"]), "orders": len(data["orders"]),
                "messages": len(data["messages"])}

    return ctx.run(export)


def _act(args: argparse.Namespace, ctx: Context) -> Any:
    """The commands done for a staff account (`--staff`)."""
    name = args.staff
    deps = ctx.deps
    if args.command == "approve":
        return ctx.run(lambda db: staff.approve_family(
            db, args.client_number, clock=ctx.clock, actor=_actor(db, name)))
    if args.command == "family":
        return ctx.run(lambda db: staff.family_file(
            db, args.client_number, clock=ctx.clock, settings=ctx.settings,
            actor=_actor(db, name)))
    if args.command == "capacity":
        return ctx.run(lambda db: staff.set_capacity(
            db, args.session_id, args.capacity, **deps, actor=_actor(db, name)))
    if args.command == "cancel":
        return ctx.run(lambda db: staff.cancel_line(
            db, args.line_id, **deps, actor=_actor(db, name)))
    if args.command == "season":
        return ctx.run(lambda db: staff.set_payment_mode(
            db, args.season_id, args.payment_mode, **deps, actor=_actor(db, name)))
    if args.command == "audit":
        return ctx.run(lambda db: _audit(db, args, _actor(db, name)))
    if args.command == "export":
        return _export(args, ctx, name)
    if args.command == "revoke-sessions":
        return ctx.run(lambda db: staff.revoke_family_sessions(
            db, args.client_number, clock=ctx.clock, actor=_actor(db, name)))
    if args.command == "delete":
        return ctx.run(lambda db: family_data.delete_family(
            db, args.client_number, force=args.force, **deps, actor=_actor(db, name)))
    ctx.run(lambda db: require(_actor(db, name).role, Action.RUN_JOBS))
    return _jobs(ctx)


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
    stdin: TextIO | None = None,
) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    stdin = stdin or sys.stdin
    args = _parser().parse_args(argv)
    settings = settings or Settings.from_env()
    ctx = Context(settings, _clock(settings, args.now))
    try:
        result: Any = (
            _accounts(args, ctx, stdin) if args.command == "staff" else _act(args, ctx)
        )
    except FileExistsError:
        print(f"{args.out}: ce fichier existe déjà, rien n'a été exporté.", file=err)
        return 1
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
