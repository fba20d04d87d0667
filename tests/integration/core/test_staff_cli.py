"""`python -m backend.staff_cli`: the help desk's commands on a real database (the demo city on
SQLite, migrated like production), at a set city time."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from localstripe_process import shared
from sqlalchemy import select

from backend.adapters.clock import ManualClock, from_local
from backend.db.access import StaffAccount
from backend.db.engine import make_engine, make_session_factory, transaction
from backend.db.models import AccountStatus, Family, Line, LineStatus
from backend.db.notifications import Notification
from backend.demo import migrate, seed_demo
from backend.services import cart, checkout
from backend.settings import Settings
from backend.staff_cli import main
from tests.integration.core.helpers import deliver_payment, make_harness, pay_at_provider

ROOT = Path(__file__).resolve().parents[3]
NOW = "2027-04-20T19:00"


def _city(tmp_path: Path) -> Settings:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    migrate(url)
    engine = make_engine(url)
    with transaction(make_session_factory(engine)) as db:
        seed_demo(db, clock=ManualClock(from_local(datetime(2027, 4, 20, 19))))
    engine.dispose()
    settings = Settings(database_url=url, stripe_api_base=shared().base)
    code, account, err = _run(
        settings, "staff", "create", "--username", "coordo", "--role", "coordinator",
        stdin=PASSWORD + "\n",
    )
    assert code == 0, err
    assert account["role"] == "coordinator" and "password" not in json.dumps(account)
    return settings


PASSWORD = "un-long-mot-de-passe"


def _run(settings: Settings, *args: str, stdin: str = "") -> tuple[int, Any, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["--now", NOW, *args], settings=settings, out=out, err=err,
                stdin=io.StringIO(stdin))
    return code, json.loads(out.getvalue()) if code == 0 else None, err.getvalue()


def _cli(settings: Settings, *args: str) -> tuple[int, Any, str]:
    """A command done for the coordinator account `coordo` (created by `_city`)."""
    return _run(settings, "--staff", "coordo", *args)


def _db(settings: Settings, fn: Any) -> Any:
    engine = make_engine(settings.database_url)
    try:
        with transaction(make_session_factory(engine)) as db:
            return fn(db)
    finally:
        engine.dispose()


def test_help_desk_commands(tmp_path: Path) -> None:
    settings = _city(tmp_path)

    # Approve Sophie's pending file: approved, and she is told.
    code, result, _ = _cli(settings, "approve", "100003")
    assert code == 0 and result["status"] == "approved"
    assert _db(settings, lambda db: db.scalar(
        select(Family.status).where(Family.client_number == "100003"))) == AccountStatus.APPROVED
    assert _db(settings, lambda db: db.scalars(select(Notification.kind).where(
        Notification.kind == "account_approved")).all())

    # A refusal: the French sentence of the API, exit status 1, nothing printed on stdout.
    code, _, err = _cli(settings, "approve", "999999")
    assert code == 1 and err.startswith("not_found: Je n'ai pas trouvé")

    # Julie holds a week for Léa and pays it: her file shows the child, the cart, the order.
    clock = ManualClock(from_local(datetime(2027, 4, 20, 19)))
    engine = make_engine(settings.database_url)
    h = make_harness(make_session_factory(engine), clock, seed=False)
    h.settings = settings
    deps = h.deps

    def hold(db: Any) -> int:
        fam = db.scalar(select(Family).where(Family.client_number == "100001"))
        lea = next(p for p in fam.members if p.first_name == "Léa")
        catalog_session = 0
        from backend.db.models import Group, Site
        from backend.db.models import Session as ActivitySession

        catalog_session = db.scalar(
            select(ActivitySession.id).join(Group).join(Site, Site.id == Group.site_id).where(
                Site.name == "Parc de la Rivière", Group.label == "9-12 ans",
                ActivitySession.number == 2))
        cart.add_lines(db, fam.id, child_id=lea.id, session_ids=[catalog_session], **deps)
        return int(catalog_session)

    session_id = _db(settings, hold)
    code, result, _ = _cli(settings, "family", "100001")
    assert code == 0
    assert result["family"]["client_number"] == "100001"
    assert [c["first_name"] for c in result["family"]["children"]] == ["Léa", "Thomas"]
    (line,) = result["cart"]["lines"]
    assert line["status"] == "held" and line["child"] == "Léa"
    assert "allergies" not in json.dumps(result)  # the help desk view carries no health data

    # Raise a capacity; below what is taken is refused.
    code, result, _ = _cli(settings, "capacity", str(session_id), "25")
    assert code == 0 and result["capacity"] == 25 and result["taken"] == 1
    code, _, err = _cli(settings, "capacity", str(session_id), "0")
    assert code == 1 and err.startswith("invalid_request:")

    # Julie pays; the help desk cancels the registration: refunded in full, she is told.
    def pay(db: Any) -> int:
        fam = db.scalar(select(Family).where(Family.client_number == "100001"))
        order = checkout.checkout(db, fam.id, installments=1, accept_terms=True,
                                  card_on_file_consent=False, idempotency_key=None, **deps)
        return int(order["order_id"])

    order_id = _db(settings, pay)
    assert deliver_payment(h, pay_at_provider(h, order_id))["outcome"] == "paid"
    engine.dispose()
    code, result, _ = _cli(settings, "cancel", str(line["id"]))
    assert code == 0 and result["status"] == "cancelled" and result["refunded_cents"] == 9500
    assert _db(settings, lambda db: db.get(Line, line["id"]).status) == LineStatus.CANCELLED
    code, result, _ = _cli(settings, "family", "100001")
    assert result["orders"][-1]["status"] == "refunded"

    # Season switch and jobs.
    code, result, _ = _cli(settings, "season", "1", "normal")
    assert code == 0 and result["payment_mode"] == "normal"
    code, result, _ = _cli(settings, "jobs")
    assert code == 0 and result["outbox_sent"] >= 1 and "expiries" in result


def test_module_entry_point(tmp_path: Path) -> None:
    settings = _city(tmp_path)
    env = {**os.environ, "DATABASE_URL": settings.database_url, "DEMO_MODE": ""}
    done = subprocess.run(
        [sys.executable, "-m", "backend.staff_cli", "--now", NOW, "--staff", "coordo",
         "family", "100002"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["family"]["payer_name"] == "Marc Gagnon"
    done = subprocess.run(
        [sys.executable, "-m", "backend.staff_cli", "--help"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 0 and "approve" in done.stdout and "jobs" in done.stdout


def test_accounts_are_managed_without_a_password_on_the_command_line(tmp_path: Path) -> None:
    settings = _city(tmp_path)
    # No password option: it would stay in the shell history and the process list.
    with pytest.raises(SystemExit):
        _run(settings, "staff", "create", "--username", "x", "--role", "help_desk",
             "--password", PASSWORD)
    code, _, err = _run(settings, "staff", "create", "--username", "court", "--role",
                        "help_desk", stdin="court\n")
    assert code == 1 and err.startswith("invalid_request:")
    code, _, err = _run(settings, "staff", "create", "--username", "coordo", "--role",
                        "help_desk", stdin=PASSWORD + "\n")
    assert code == 1 and err.startswith("staff_username_taken: Ce nom d'utilisateur")
    code, anim, _ = _run(settings, "staff", "create", "--username", "anim", "--role",
                         "animator", "--group", "1", stdin=PASSWORD + "\n")
    assert code == 0 and anim["groups"] == [1]
    hashes = _db(settings, lambda db: db.scalars(select(StaffAccount.password_hash)).all())
    assert all(h.startswith("$argon2id$") and PASSWORD not in h for h in hashes)

    # An action needs a known, active account, and that account's role.
    code, _, err = _run(settings, "approve", "100003")
    assert code == 1 and err.startswith("staff_unauthorized: Connexion du personnel requise.")
    code, _, err = _run(settings, "--staff", "anim", "approve", "100003")
    assert code == 1 and err.startswith("staff_forbidden: Votre rôle")
    code, _, _ = _run(settings, "staff", "disable", "coordo")
    assert code == 0
    code, _, err = _cli(settings, "approve", "100003")
    assert code == 1 and err.startswith("staff_unauthorized")
    code, _, _ = _run(settings, "staff", "enable", "coordo")
    code, result, _ = _cli(settings, "approve", "100003")
    assert code == 0 and result["status"] == "approved"
    code, token, _ = _run(settings, "staff", "token", "coordo")
    assert code == 0 and len(token["token"]) >= 40
    code, accounts, _ = _run(settings, "staff", "list")
    assert [(a["username"], a["role"]) for a in accounts] == [
        ("coordo", "coordinator"), ("anim", "animator")]

    # The audit log through the CLI: the approval, by whom, through what.
    code, entries, _ = _cli(settings, "audit", "--family", "100003")
    assert code == 0
    (entry,) = entries
    assert (entry["actor"], entry["via"], entry["action"]) == ("coordo", "cli", "family_approved")
    assert entry["at"] == "2027-04-20T23:00:00"  # 19 h in the city, stored as UTC
    code, _, err = _run(settings, "--staff", "anim", "audit")
    assert code == 1 and err.startswith("staff_forbidden")


def test_loi_25_export_and_delete_through_the_cli(tmp_path: Path) -> None:
    settings = _city(tmp_path)
    out = tmp_path / "famille-100002.json"
    code, result, err = _cli(settings, "export", "100002", "--out", str(out))
    assert code == 0, err
    assert result["written"] == str(out) and result["members"] == 2
    assert out.stat().st_mode & 0o777 == 0o600  # personal data: readable by its owner only
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["family"]["phone"] == "+14185550102"
    assert [m["first_name"] for m in data["members"]] == ["Marc", "Emma"]
    # An existing file is never overwritten.
    code, _, err = _cli(settings, "export", "100002", "--out", str(out))
    assert code == 1 and "existe déjà" in err

    code, result, err = _cli(settings, "delete", "100002")
    assert code == 0, err
    assert result["people_deleted"] == 2
    code, _, err = _cli(settings, "family", "100002")
    assert code == 1 and err.startswith("not_found")
    code, entries, _ = _cli(settings, "audit")
    assert [e["action"] for e in entries] == ["family_deleted", "family_exported"]
    assert all(e["actor"] == "coordo" and e["via"] == "cli" for e in entries)
    assert "+1418" not in json.dumps(entries)


def test_a_coordinator_writes_the_registrations_csv_and_the_export_is_audited(
    tmp_path: Path,
) -> None:
    settings = _city(tmp_path)
    target = tmp_path / "inscriptions.csv"
    code, result, err = _cli(settings, "csv", "registrations", "--out", str(target))
    assert code == 1 and "invalid_request" in err and not target.exists()  # season required

    code, result, err = _cli(settings, "csv", "registrations", "--season", "1",
                             "--out", str(target))
    assert code == 0, err
    body = target.read_bytes().decode("utf-8")
    assert body.startswith("\ufeffclient_number;child_last_name;child_first_name")
    assert result["rows"] == body.count("\r\n") - 1
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    code, again, err = _cli(settings, "csv", "registrations", "--season", "1",
                            "--out", str(target))
    assert code == 1 and "existe déjà" in err  # never overwrites a file

    code, entries, _ = _cli(settings, "audit", "--action", "export_registrations")
    assert code == 0 and len(entries) == 1 and entries[0]["actor"] == "coordo"
