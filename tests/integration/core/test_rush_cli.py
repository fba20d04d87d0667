"""`staff_cli rush …`: a coordinator runs registration night from the command line on the demo
city (SQLite, migrated like production), every change in the audit log; simulated families only
in demo mode."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from sqlalchemy import select

from backend.db.access import AuditEntry
from tests.integration.core.test_staff_cli import _city, _cli, _db, _run


def test_a_coordinator_opens_runs_and_closes_a_rush(tmp_path: Path) -> None:
    settings = _city(tmp_path)
    code, rush, err = _cli(settings, "rush", "open", "--season", "1",
                           "--opens-at", "2027-04-20T19:00", "--rate", "30", "--cap", "200")
    assert code == 0, err
    assert rush["phase"] == "running" and rush["rate_per_minute"] == 30.0 and rush["cap"] == 200
    code, _, err = _cli(settings, "rush", "open", "--season", "1",
                        "--opens-at", "2027-04-20T19:00", "--rate", "30", "--cap", "200")
    assert code == 1 and err.startswith("invalid_request")  # one rush at a time per season

    code, changed, _ = _cli(settings, "rush", "set", str(rush["id"]), "--rate", "45")
    assert code == 0 and changed["rate_per_minute"] == 45.0 and changed["cap"] == 200
    code, _, err = _cli(settings, "rush", "set", str(rush["id"]), "--cap", "0")
    assert code == 1 and "invalid_request" in err
    code, _, err = _cli(settings, "rush", "simulate", str(rush["id"]), "--families", "5")
    assert code == 1 and err.startswith("forbidden")  # no made-up file in a city's data
    code, paused, _ = _cli(settings, "rush", "pause", str(rush["id"]))
    assert code == 0 and paused["phase"] == "paused"
    code, closed, _ = _cli(settings, "rush", "close", str(rush["id"]))
    assert code == 0 and closed["state"] == "closed"

    actions = _db(settings, lambda db: [a.action for a in db.scalars(
        select(AuditEntry).where(AuditEntry.action.like("rush_%")).order_by(AuditEntry.id))])
    assert actions == ["rush_open", "rush_limits", "rush_pause", "rush_close"]


def test_in_demo_mode_simulated_families_fill_the_line_and_are_let_in(tmp_path: Path) -> None:
    settings = dataclasses.replace(_city(tmp_path), demo_mode=True)
    code, rush, err = _run(settings, "--staff", "coordo", "rush", "open", "--season", "1",
                           "--opens-at", "2027-04-20T18:59", "--rate", "20", "--cap", "50")
    assert code == 0, err
    code, filled, err = _run(settings, "--staff", "coordo", "rush", "simulate",
                             str(rush["id"]), "--families", "30")
    assert code == 0, err
    assert filled["waiting"] == 30 and filled["estimated_wait_minutes"] == 2  # 30 at 20/min
    code, done, err = _run(settings, "--staff", "coordo", "rush", "admit", str(rush["id"]))
    assert code == 0, err
    assert done["admitted"] == 20 and done["rush"]["registering"] == 20  # a minute at 20
    assert done["rush"]["waiting"] == 10
