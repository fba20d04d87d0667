"""The plain Rasa bot of bench/turn_latency.py, run as production runs ours (same command, same
endpoints file, so the same tracker and lock stores), and the fresh PostgreSQL databases of a run.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from stack import SharedStores, _answers, free_port

ROOT = Path(__file__).resolve().parent.parent
BOT_BIN = ROOT / ".venv-bot" / "bin"
BASELINE = ROOT / "bench" / "baseline"
ENDPOINTS = ROOT / "bot" / "endpoints-several-processes.yml"
ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@contextlib.contextmanager
def databases(names: list[str]) -> Iterator[None]:
    """Fresh PostgreSQL databases for one run, dropped after it."""
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
        for name in names:
            connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
            for name in names:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_url(name: str) -> str:
    server = ADMIN_URL.replace("postgresql://", "postgresql+psycopg://").rsplit("/", 1)[0]
    return f"{server}/{name}"


@dataclass
class BaselineBot:
    """The plain Rasa bot: `processes` Rasa processes on the production stores, behind the
    balancer when more than one."""

    model: Path
    processes: int
    stores: SharedStores
    log_dir: Path
    port: int = field(default_factory=free_port)
    children: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the child
        self.children[name] = subprocess.Popen(
            argv, cwd=BASELINE, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, **env})

    def start(self, timeout: float = 300) -> None:
        env = {**self.stores.env(), "RASA_TELEMETRY_ENABLED": "false", "PYTHONPATH": str(ROOT),
               "ACTION_ENDPOINT_URL": "http://127.0.0.1:9/webhook"}  # no custom action here
        ports = [self.port] if self.processes == 1 else [free_port() for _ in range(self.processes)]
        for n, port in enumerate(ports, 1):
            self._spawn(f"baseline-{n}", [
                str(BOT_BIN / "python"), "-m", "bot.rasa_run", "run", "--model", str(self.model),
                "--port", str(port),
                "--interface", "127.0.0.1", "--enable-api", "--endpoints", str(ENDPOINTS)], env)
        if self.processes > 1:
            self._spawn("baseline-balancer", [
                sys.executable, str(ROOT / "scripts" / "balancer.py"), "--port", str(self.port),
                *[a for port in ports for a in ("--upstream", f"127.0.0.1:{port}")]], {})
        deadline = time.monotonic() + timeout
        pending = [f"http://127.0.0.1:{port}/status" for port in ports] + [f"{self.url}/status"]
        while pending:
            if time.monotonic() > deadline or any(c.poll() is not None
                                                  for c in self.children.values()):
                raise RuntimeError(f"baseline Rasa did not start ({self.log_dir})")
            pending = [url for url in pending if not _answers(url)]
            time.sleep(0.5)

    def stop(self) -> None:
        for child in self.children.values():
            if child.poll() is None:
                os.killpg(child.pid, 15)
        for child in self.children.values():
            child.wait(timeout=30)
