"""A real localstripe process on a free loopback port, for the tests that pay through it."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAUNCHER = ROOT / "scripts" / "localstripe_local.py"

SECRET_KEY = "sk_test_localstripe"
PUBLISHABLE_KEY = "pk_test_localstripe"


@dataclass(frozen=True)
class LocalStripe:
    base: str  # http://127.0.0.1:<port>

    @property
    def js_url(self) -> str:
        return f"{self.base}/js.stripe.com/v3/"

    def register_webhook(self, url: str, secret: str, name: str = "backend") -> None:
        """localstripe's own configuration endpoint: it then POSTs every event to `url`,
        signed with `secret` in Stripe's scheme."""
        data = f"url={url}&secret={secret}".encode()
        request = urllib.request.Request(
            f"{self.base}/_config/webhooks/{name}", data=data, method="POST"
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@contextmanager
def running(timeout: float = 30.0) -> Iterator[LocalStripe]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, str(LAUNCHER), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = LocalStripe(base=f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + timeout
        while not _answers(server.js_url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("localstripe did not start")
            time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
