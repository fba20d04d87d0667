"""The whole stack for end-to-end tests: backend (demo data on a fresh SQLite file), action
server and Rasa with the trained model (`make model`), on free ports, once per test session."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from stack import Ports, Stack, running  # noqa: E402

from tests.e2e.conversation import Parent  # noqa: E402

MODEL = ROOT / "models" / "current.tar.gz"


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not MODEL.exists():
        pytest.fail("no trained model: run `make model` first (make test does)")
    work = tmp_path_factory.mktemp("e2e")
    url = f"sqlite:///{work / 'e2e.db'}"
    env = {**os.environ, "DEMO_MODE": "1", "DATABASE_URL": url}
    subprocess.run([str(ROOT / ".venv/bin/python"), "-m", "backend.demo"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    the_stack = Stack(ports=Ports.free(), env={"DEMO_MODE": "1", "DATABASE_URL": url},
                      log_dir=ROOT / "tests" / "artifacts" / "e2e-logs")
    with running(the_stack, timeout=300):
        yield the_stack


@pytest.fixture(scope="session")
def database(stack: Stack) -> Iterator[Engine]:
    engine = create_engine(stack.env["DATABASE_URL"])
    yield engine
    engine.dispose()


@pytest.fixture
def parent(stack: Stack) -> Parent:
    return Parent(stack.rasa_url, stack.backend_url, sender=f"e2e-{uuid.uuid4().hex[:10]}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The turn-rule check over every recorded conversation runs after the conversations."""
    name = "test_every_end_to_end_turn_ends_on_a_question_or_a_closing"
    last = [i for i in items if i.name == name]
    items[:] = [i for i in items if i not in last] + last
