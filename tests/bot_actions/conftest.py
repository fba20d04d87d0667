"""The real backend for the action tests: `python -m backend` on a fresh SQLite database with
the demo city (migrated and seeded by `python -m backend.demo`), on a free port, once per module.

Runs in the bot's environment (`.venv-bot`); the backend runs in its own (`.venv`) as a child
process, so nothing here imports backend/ — the actions reach it over HTTP, as in production:

    .venv-bot/bin/python -m pytest tests/bot_actions --confcutdir=tests/bot_actions
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP_PY = ROOT / ".venv" / "bin" / "python"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"the backend exited ({proc.returncode}):\n{log.read_text()[-3000:]}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(
        f"the backend did not answer {url} in {timeout} s:\n{log.read_text()[-3000:]}"
    )


def _add_staff_account(url: str, env: dict[str, str]) -> None:
    """A coordinator account and its bearer token, as the city's IT would make them (the
    staff CLI, password on stdin), for the tests that play the help desk."""
    cli = [str(APP_PY), "-m", "backend.staff_cli", "staff"]
    subprocess.run(
        [*cli, "create", "--username", "coordo-tests", "--role", "coordinator"],
        cwd=ROOT, env=env, check=True, capture_output=True, input=b"mot-de-passe-coordo\n",
    )
    issued = subprocess.run(
        [*cli, "token", "coordo-tests"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    from harness import STAFF_TOKENS

    STAFF_TOKENS[url] = json.loads(issued.stdout)["token"]


@pytest.fixture(scope="module")
def backend_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A backend of this module's own: tests in a module share its database, in file order."""
    if not APP_PY.exists():
        pytest.fail("the backend's environment (.venv) is missing: run `make env`")
    work = tmp_path_factory.mktemp("backend")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    # The payment page opens a card setup at Stripe: localstripe on 127.0.0.1 stands in.
    stripe_port = _free_port()
    localstripe = subprocess.Popen(
        [str(APP_PY), str(ROOT / "scripts" / "localstripe_local.py"), "--port", str(stripe_port)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    stripe_url = f"http://127.0.0.1:{stripe_port}"
    env = {
        **os.environ,
        "DEMO_MODE": "1",
        "DATABASE_URL": f"sqlite:///{work / 'actions.db'}",
        "BACKEND_HOST": "127.0.0.1",
        "BACKEND_PORT": str(port),
        "PUBLIC_BASE_URL": url,
        "LOG_LEVEL": "WARNING",
        "STRIPE_API_BASE": stripe_url,
        "STRIPE_JS_URL": f"{stripe_url}/js.stripe.com/v3/",
    }
    subprocess.run(
        [str(APP_PY), "-m", "backend.demo"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    _add_staff_account(url, env)
    log_path = work / "backend.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [str(APP_PY), "-m", "backend"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_healthy(f"{stripe_url}/js.stripe.com/v3/", localstripe, log_path, 60)
        _wait_healthy(f"{url}/health", proc, log_path, 60)
        from bot.actions.backend_client import backend

        # the client was built at import from BACKEND_URL: point it (and any later import) here
        os.environ["BACKEND_URL"] = url
        backend.base_url = url
        backend._cache.clear()
        backend._structure = None
        yield url
    finally:
        for child in (proc, localstripe):
            child.terminate()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


@pytest.fixture(autouse=True)
async def _close_http_session() -> AsyncIterator[None]:
    """Each test has its own event loop: close the client's aiohttp session with it."""
    yield
    from bot.actions.backend_client import backend

    await backend.aclose()
