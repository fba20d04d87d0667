"""One parent's registration, every message sent to the other of two real Rasa processes.

The whole stack runs as `scripts/stack.py --rasa-processes 2` starts it: two Rasa processes
with bot/endpoints-several-processes.yml, so the conversation locks in the real Redis and the
conversations in a PostgreSQL database of this test's own, behind the balancer on one port.
With a tracker store of each process's own, the second message would reach a process that never
saw the first one, and the registration would start over.
"""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg2
import pytest

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from stack import Ports, SharedStores, Stack, running  # noqa: E402

from bot.privacy.sensitive import MASK  # noqa: E402
from tests.e2e.conversation import Parent, converse, http_json  # noqa: E402

MODEL = ROOT / "models" / "current.tar.gz"
ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
LINK = re.compile(r"/p/\w+")


def _up(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not (_up(6379) and _up(5432)):
        if os.environ.get("CI"):
            pytest.fail("Redis and PostgreSQL are required under CI (.ci/run starts them)")
        pytest.skip("needs Redis at 127.0.0.1:6379 and PostgreSQL at 127.0.0.1:5432")
    if not MODEL.exists():
        pytest.fail("no trained model: run `make model` first (make test does)")
    work = tmp_path_factory.mktemp("two-rasa")
    url = f"sqlite:///{work / 'city.db'}"
    subprocess.run([str(ROOT / ".venv/bin/python"), "-m", "backend.demo"], cwd=ROOT,
                   env={**os.environ, "DEMO_MODE": "1", "DATABASE_URL": url},
                   check=True, capture_output=True)
    conversations = f"two_rasa_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(ADMIN)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{conversations}"')
    the_stack = Stack(
        ports=Ports.free(), env={"DEMO_MODE": "1", "DATABASE_URL": url},
        log_dir=ROOT / "tests" / "artifacts" / "two-rasa-logs", rasa_processes=2,
        shared=SharedStores(tracker_db_name=conversations, redis_lock_db=1),
    )
    try:
        with running(the_stack, timeout=600):
            yield the_stack
    finally:
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{conversations}" WITH (FORCE)')
        admin.close()


@dataclass
class AlternatingParent(Parent):
    """Sends message n to process n mod 2, remembering what it sent and what came back."""

    processes: list[str] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)
    received: list[str] = field(default_factory=list)

    def say(self, text: str) -> list[dict[str, Any]]:
        self.rasa_url = self.processes[self.messages_sent % len(self.processes)]
        replies = super().say(text)
        self.sent.append(text)
        self.received.extend(str(r["text"]) for r in replies if r.get("text"))
        return replies


def tracker(stack: Stack, url: str, conversation: str) -> dict[str, Any]:
    result: dict[str, Any] = http_json(
        "GET", f"{url}/conversations/{conversation}/tracker"
               f"?include_events=ALL&token={stack.rasa_api_token}")
    return result


def test_a_registration_alternating_between_two_rasa_processes_loses_nothing(
    stack: Stack,
) -> None:
    first, second = stack.rasa_urls
    parent = AlternatingParent(first, stack.backend_url, sender=f"two-{uuid.uuid4().hex[:10]}",
                               processes=[first, second])
    final = converse(
        parent,
        "Bonjour, je voudrais inscrire Emma au camp de jour au parc de la Rivière, semaines 2 et 3",
        [
            ("quel est ce code", lambda: parent.latest_code("4185550102")),
            ("numéro de client", "mon numéro de client c'est 100002 pis mon tel 418-555-0102"),
            ("téléphone inscrit", "418-555-0102"),
            ("modalités de paiement", "j'accepte"),
            ("taille", "M"),
            ("chandail", "M"),
            ("service de garde", "non merci"),
            ("transport à vélo", "non merci"),
            ("liste d'attente", "oui"),
            ("autre enfant", "non, je veux payer"),
            ("versement", "1 versement"),
        ],
        done=lambda text: LINK.search(text) is not None,
        limit=14,
    )
    assert LINK.search(final), parent.dump()
    assert parent.messages_sent >= 4  # both processes answered turns of the same registration

    # Both processes read the same conversation, event for event.
    seen_by_first = tracker(stack, first, parent.sender)
    seen_by_second = tracker(stack, second, parent.sender)
    assert seen_by_first["events"] == seen_by_second["events"]
    assert seen_by_first["slots"] == seen_by_second["slots"]
    events = seen_by_first["events"]

    # Every message the parent sent is there once, in order (the code's answer masked)...
    said = [e["text"] for e in events if e["event"] == "user"]
    assert len(said) == len(parent.sent)
    assert [s for s in said if s != MASK] == [
        s for s in parent.sent if not re.fullmatch(r"\d{6}", s)]
    # ...and every answer the parent read, once, in order.
    answered = [e["text"] for e in events if e["event"] == "bot" and e.get("text")]
    assert answered == parent.received
    stamps = [(e["event"], e.get("timestamp"), e.get("name"), e.get("text")) for e in events]
    assert len(stamps) == len(set(stamps))

    # The backend holds Emma's two weeks in one order, as the parent was told.
    with sqlite3.connect(stack.env["DATABASE_URL"].removeprefix("sqlite:///")) as db:
        weeks = db.execute(
            "SELECT s.number FROM line l JOIN person p ON p.id = l.person_id "
            "JOIN session s ON s.id = l.session_id "
            "WHERE p.first_name = 'Emma' AND l.order_id IS NOT NULL ORDER BY s.number"
        ).fetchall()
    assert [w[0] for w in weeks] == [2, 3]

    # One turn more through the single port the city exposes.
    parent.processes = [stack.rasa_url]
    assert parent.say("merci")
    assert len(tracker(stack, first, parent.sender)["events"]) > len(events)
