"""A human and new accounts through Rasa's REST channel, then the backend's state: a visitor's
callback request at 19:00 is listed by the staff API; a new family file opened by chat is
pending in the backend; the human.yml containment entries get the expected first reply."""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, text

from tests.e2e.checkout_setup import identified_and_stopped
from tests.e2e.conversation import Parent, http_json
from tests.e2e.scripted_parents import clone_family
from tests.e2e.turn_rules import Rules

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = ROOT / "tests" / "e2e" / "helpdesk" / "questions" / "human.yml"


def _staff_token(database_url: str) -> str:
    """A help-desk account, made as the city's IT would (the staff CLI, password on stdin)."""
    # DEMO_MODE: the CLI dates the token on the demo clock, as the backend reads it.
    env = {"DATABASE_URL": database_url, "DEMO_MODE": "1", "PATH": "/usr/bin:/bin"}
    cli = [str(ROOT / ".venv/bin/python"), "-m", "backend.staff_cli", "staff"]
    name = f"aide-{uuid.uuid4().hex[:6]}"
    subprocess.run(
        [*cli, "create", "--username", name, "--role", "help_desk"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        input=b"mot-de-passe-aide-1\n",
    )
    issued = subprocess.run(
        [*cli, "token", name], cwd=ROOT, env=env, check=True, capture_output=True
    )
    return str(json.loads(issued.stdout)["token"])


def test_a_visitor_at_night_leaves_a_callback_the_help_desk_lists(
    parent: Parent, database: Engine
) -> None:
    said = parent.says_text("je veux parler à quelqu'un svp")
    assert "rouvre" in said and "rappelle" in said, parent.dump()
    said = parent.says_text("oui")
    assert "numéro" in parent.last_question, parent.dump()
    said = parent.says_text("au 819 555-0123")
    assert "819 555-0123" in said and "rappellera" in said, parent.dump()

    token = _staff_token(str(database.url.render_as_string(hide_password=False)))
    listed = http_json(
        "GET",
        f"{parent.backend_url}/api/staff/callbacks",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert [(c["phone"], c["status"]) for c in listed if c["phone"] == "+18195550123"] == [
        ("+18195550123", "open")
    ]


def test_a_new_parent_opens_a_file_that_is_pending_in_the_backend(
    parent: Parent, database: Engine
) -> None:
    parent.say("j'ai pas de compte, je suis nouveau en ville")
    assert "cellulaire" in parent.last_question, parent.dump()
    parent.say("819 555-0188")
    assert "code" in parent.last_question, parent.dump()
    parent.say(parent.latest_code("8195550188"))
    assert "prénom et votre nom" in parent.last_question, parent.dump()
    parent.say("Marc-André Bélanger")
    parent.say("45 rue des Pins, Val-Fleuri")
    parent.say("non")
    assert "date de naissance" in parent.last_question, parent.dump()
    said = parent.says_text("Rosalie 14 juin 2019")
    assert "en attente d'approbation" in said, parent.dump()
    number = re.search(r"numéro de client (\d{6})", said)
    assert number, said
    with database.connect() as conn:
        row = conn.execute(
            text("SELECT status, phone, resident FROM family WHERE client_number = :n"),
            {"n": number[1]},
        ).one()
        kids = conn.execute(
            text(
                "SELECT p.first_name, p.birth_date FROM person p JOIN family f "
                "ON f.id = p.family_id WHERE f.client_number = :n AND NOT p.is_adult"
            ),
            {"n": number[1]},
        ).all()
    assert (row.status, row.phone) == ("pending", "+18195550188")
    assert [(k.first_name, str(k.birth_date)) for k in kids] == [("Rosalie", "2019-06-14")]
    said = parent.says_text("pis mon compte, il est en attente?")
    assert number[1] in said and "approbation" in said, parent.dump()


def _first_reply(entry: dict[str, Any], stack: Any, database: Engine) -> str | None:
    parent = Parent(stack.rasa_url, stack.backend_url, sender=f"e2e-human-{uuid.uuid4().hex[:10]}")
    if entry.get("as") == "family":
        client, phone = clone_family(database, "julie")
        identified_and_stopped(parent, client, phone)
    replies = parent.say(entry["say"])
    first = str(replies[0].get("text") or "") if replies else ""
    return Rules.load().response_of(first)


def test_human_containment_entries(stack: Any, database: Engine) -> None:
    entries = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))
    misses = []
    for entry in entries:
        got = _first_reply(entry, stack, database)
        expected = entry["expect"] if isinstance(entry["expect"], list) else [entry["expect"]]
        if got not in expected:
            misses.append((entry["say"], expected, got))
    rate = 1 - len(misses) / len(entries)
    print(f"human.yml: {len(entries) - len(misses)}/{len(entries)} answered right", misses)
    assert rate >= 0.9, "\n".join(f"{s!r}: {e} got {g}" for s, e, g in misses)
