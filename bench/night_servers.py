"""The two servers registration night drives: ours (`python -m backend`, as `make run` starts
it) and the bare handler (bench/minimal_reservation.py), each in its own process, same database
threads (DB_WORKERS 8), same engine settings."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from stack import Ports, Stack, free_port, running  # noqa: E402

WORKERS = 8


@contextmanager
def our_server(url: str) -> Iterator[str]:
    stack = Stack(ports=Ports.free(), env={"DEMO_MODE": "1", "DATABASE_URL": url,
                                          "DB_WORKERS": str(WORKERS), "LOG_LEVEL": "WARNING"},
                  log_dir=ROOT / "var" / "bench-log", with_rasa=False)
    with running(stack, timeout=60):
        yield stack.backend_url


@contextmanager
def minimal_server(url: str) -> Iterator[str]:
    port = free_port()
    log = (ROOT / "var" / "bench-log").resolve()
    log.mkdir(parents=True, exist_ok=True)
    with open(log / "minimal.log", "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "minimal_reservation.py"), "--port", str(port),
             "--database-url", url, "--workers", str(WORKERS)], stdout=out, stderr=out)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"minimal handler did not start (see {log / 'minimal.log'})")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
