"""Starts and stops the whole stack: backend, action server and Rasa.

Used by `make run` (demo on SQLite, fixed ports) and by the end-to-end tests (free ports, a
database of their own). Standard library only, so it runs in either environment. Every child
runs in its own process group, so Ctrl-C or SIGTERM stops the children's children too.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from shared_stores import SharedStores

ROOT = Path(__file__).resolve().parent.parent
APP_PY = ROOT / ".venv" / "bin" / "python"
BOT_BIN = ROOT / ".venv-bot" / "bin"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Ports:
    backend: int = 8000
    actions: int = 5055
    rasa: int = 5005
    twilio: int = 8025  # the demo's Twilio stand-in (demo_texting only)
    localstripe: int = 8420

    @classmethod
    def free(cls) -> Ports:
        return cls(backend=free_port(), actions=free_port(), rasa=free_port(),
                   twilio=free_port(), localstripe=free_port())


@dataclass
class Stack:
    ports: Ports
    env: dict[str, str]
    log_dir: Path
    model: Path = ROOT / "models" / "current.tar.gz"
    with_rasa: bool = True
    credentials: Path = ROOT / "bot" / "credentials-local.yml"
    # Texts from the bot and the backend go to a local Twilio stand-in that /demo/texto reads.
    demo_texting: bool = False
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    # Rasa's HTTP API (trackers, events) answers only with this token: RASA_API_TOKEN, or a new
    # random one per start. The key the channels seal identities with and derive conversation ids
    # from: CONVERSATION_SECRET, or a new random one per start (shared by Rasa and the actions).
    rasa_api_token: str = ""
    conversation_secret: str = ""
    stripe_webhook_secret: str = ""
    # Several Rasa processes behind scripts/balancer.py on `ports.rasa`, sharing `shared`
    # (required then); one process with `shared` runs on the shared stores without a balancer.
    rasa_processes: int = 1
    shared: SharedStores | None = None
    rasa_ports: list[int] = field(default_factory=list)
    _argv: dict[str, tuple[list[str], dict[str, str]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.rasa_processes > 1 and self.shared is None:
            self.shared = SharedStores.from_env()
        self.rasa_ports = ([self.ports.rasa] if self.rasa_processes == 1
                           else [free_port() for _ in range(self.rasa_processes)])
        self.rasa_api_token = (self.rasa_api_token or self.env.get("RASA_API_TOKEN")
                               or os.environ.get("RASA_API_TOKEN") or secrets.token_urlsafe(32))
        self.conversation_secret = (
            self.conversation_secret or self.env.get("CONVERSATION_SECRET")
            or os.environ.get("CONVERSATION_SECRET") or secrets.token_urlsafe(32))

    @property
    def public_base_url(self) -> str:
        return self.env.get("PUBLIC_BASE_URL", f"http://localhost:{self.ports.backend}")

    def tracker_url(self, conversation: str) -> str:
        """Rasa's tracker of a conversation, with the API token."""
        return (f"{self.rasa_url}/conversations/{conversation}/tracker"
                f"?include_events=ALL&token={self.rasa_api_token}")

    @property
    def backend_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.backend}"

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.rasa}"

    @property
    def rasa_names(self) -> list[str]:
        return ["rasa"] if self.rasa_processes == 1 else [
            f"rasa-{n}" for n in range(1, self.rasa_processes + 1)]

    @property
    def rasa_urls(self) -> list[str]:
        """Each Rasa process itself, past the balancer."""
        return [f"http://127.0.0.1:{port}" for port in self.rasa_ports]

    def _spawn(self, name: str, argv: list[str], extra_env: dict[str, str]) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the child
        env = {**os.environ, **self.env, **extra_env}
        self.processes[name] = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self._argv[name] = (argv, extra_env)

    def stop_process(self, name: str) -> None:
        """Stops one child (the action server, to see the bot without it)."""
        proc = self.processes[name]
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def restart_process(self, name: str, timeout: float = 120.0) -> None:
        """Starts a stopped child again, as it was started, and waits until it answers."""
        argv, extra_env = self._argv[name]
        self.stop_process(name)
        self._spawn(name, argv, extra_env)
        self.wait_ready(timeout)

    @property
    def localstripe_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.localstripe}"

    def start_localstripe(self) -> dict[str, str]:
        """localstripe (a fake Stripe, GPL-3.0, development only) on 127.0.0.1, from scratch;
        returns the backend's STRIPE_* settings pointing at it. Its webhooks are registered
        once the backend answers (`register_localstripe_webhook`)."""
        self._spawn(
            "localstripe",
            [str(APP_PY), str(ROOT / "scripts" / "localstripe_local.py"),
             "--port", str(self.ports.localstripe)],
            {"PYTHONUNBUFFERED": "1"},
        )
        self.stripe_webhook_secret = (self.env.get("STRIPE_WEBHOOK_SECRET")
                                      or "whsec_" + secrets.token_urlsafe(24))
        return {
            "STRIPE_API_BASE": self.localstripe_url,
            "STRIPE_JS_URL": f"{self.localstripe_url}/js.stripe.com/v3/",
            "STRIPE_SECRET_KEY": "sk_test_localstripe",
            "STRIPE_PUBLISHABLE_KEY": "pk_test_localstripe",
            "STRIPE_WEBHOOK_SECRET": self.stripe_webhook_secret,
        }

    def register_localstripe_webhook(self) -> None:
        """localstripe POSTs each event, signed in Stripe's scheme, to the backend's webhook."""
        data = urllib.parse.urlencode({
            "url": f"{self.backend_url}/api/gateway/webhook",
            "secret": self.stripe_webhook_secret,
        }).encode()
        request = urllib.request.Request(
            f"{self.localstripe_url}/_config/webhooks/backend", data=data, method="POST")
        with urllib.request.urlopen(request, timeout=5):
            pass

    def start(self, timeout: float = 240.0) -> None:
        # bot/credentials-local.yml reads the Twilio settings from the environment; the demo's
        # values are in docs/CHANNELS.md (the signature is checked even in demo mode).
        twilio_demo = {
            "TWILIO_ACCOUNT_SID": "AC00000000000000000000000000000000",
            "TWILIO_AUTH_TOKEN": "demo-twilio-auth-token",
            "TWILIO_NUMBER": "+14185550199",
            "TWILIO_PUBLIC_URL": f"http://localhost:{self.ports.rasa}",
        }
        shared = {
            **{k: os.environ.get(k, v) for k, v in twilio_demo.items()},
            "BACKEND_URL": self.backend_url,
            "CONVERSATION_SECRET": self.conversation_secret,
            "RASA_TELEMETRY_ENABLED": "false",
            "PYTHONUNBUFFERED": "1",
        }
        backend_texting: dict[str, str] = {}
        if self.demo_texting:
            shared["TWILIO_API_BASE"], backend_texting = self._start_twilio_stand_in(shared)
        stripe_env = self.start_localstripe()
        self._spawn(
            "backend",
            [str(APP_PY), "-m", "backend"],
            {**shared, **stripe_env, "BACKEND_HOST": "127.0.0.1",
             "BACKEND_PORT": str(self.ports.backend),
             "RASA_URL": f"http://localhost:{self.ports.rasa}",
             # the waiting room's admission message, into the parent's open web chat
             **({"BOT_PUSH_URL": f"{self.rasa_url}/webhooks/socketio/push"}
                if self.with_rasa else {}),
             "PUBLIC_BASE_URL": self.public_base_url, **backend_texting},
        )
        if self.with_rasa:
            self._spawn(
                "actions",
                [str(BOT_BIN / "rasa"), "run", "actions", "--actions", "bot.actions",
                 "--port", str(self.ports.actions)],
                shared,
            )
            self._start_rasa(shared)
        self.wait_ready(timeout)

    def _start_rasa(self, shared: dict[str, str]) -> None:
        action_url = f"http://localhost:{self.ports.actions}/webhook"
        if self.shared is None:
            endpoints = self.log_dir / "endpoints.yml"
            endpoints.write_text(
                (ROOT / "bot" / "endpoints.yml").read_text(encoding="utf-8")
                .replace("localhost:5055", f"localhost:{self.ports.actions}"),
                encoding="utf-8",
            )
            # each stack keeps its conversations beside its logs (demo mode: an SQLite file)
            stores = {"TRACKER_SQLITE_PATH": os.environ.get(
                "TRACKER_SQLITE_PATH", str(self.log_dir / "rasa-tracker.db"))}
        else:
            endpoints = ROOT / "bot" / "endpoints-several-processes.yml"
            stores = {**self.shared.env(), "ACTION_ENDPOINT_URL": action_url}
            self._prepare_tracker_store({**shared, **stores})
        for name, port in zip(self.rasa_names, self.rasa_ports, strict=True):
            # The API needs the token; the browser may only call from the backend's public
            # origin (the page that embeds the widget), never from any site ("*").
            self._spawn(
                name,
                # Rasa's own command line, with its action-answer check built once (bot/rasa_run.py)
                [str(BOT_BIN / "python"), "-m", "bot.rasa_run", "run", "--model", str(self.model),
                 # one argument with "=": a random token may start with "-", which argparse would
                 # take for an option of its own
                 "--enable-api", f"--auth-token={self.rasa_api_token}",
                 "--interface", "127.0.0.1", "--port", str(port),
                 "--cors", _origin(self.public_base_url),
                 "--endpoints", str(endpoints),
                 "--credentials", str(self.credentials)],
                {**shared, **stores},
            )
        if self.rasa_processes > 1:
            self._spawn(
                "balancer",
                [sys.executable, str(ROOT / "scripts" / "balancer.py"),
                 "--port", str(self.ports.rasa),
                 *[arg for port in self.rasa_ports for arg in ("--upstream", f"127.0.0.1:{port}")]],
                {"PYTHONUNBUFFERED": "1"},
            )

    def _prepare_tracker_store(self, env: dict[str, str]) -> None:
        """Creates the shared tracker database and its tables once, before the processes start:
        several processes creating them at the same instant would collide."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_dir / "tracker-store-setup.log", "ab") as log:
            subprocess.run(
                [str(BOT_BIN / "python"), "-c",
                 "from bot.tracker_store import RedactingTrackerStore as Store\n"
                 "Store(dialect='postgresql')"],
                cwd=ROOT, env={**os.environ, **self.env, **env}, stdout=log,
                stderr=subprocess.STDOUT, check=True, timeout=300,
            )

    def _start_twilio_stand_in(self, shared: dict[str, str]) -> tuple[str, dict[str, str]]:
        """Starts the demo's Twilio stand-in; its URL, and how the backend then sends texts."""
        self._spawn(
            "twilio",
            [str(APP_PY), "-m", "backend.demo_twilio", "--port", str(self.ports.twilio)],
            shared,
        )
        backend = {"SMS_BACKEND": "twilio", "TWILIO_FROM_NUMBER": shared["TWILIO_NUMBER"]}
        return f"http://127.0.0.1:{self.ports.twilio}", backend

    def wait_ready(self, timeout: float) -> None:
        checks = {"backend": f"{self.backend_url}/health",
                  "localstripe": f"{self.localstripe_url}/js.stripe.com/v3/"}
        if self.demo_texting:
            checks["twilio"] = f"http://127.0.0.1:{self.ports.twilio}/health"
        if self.with_rasa:
            checks["actions"] = f"http://127.0.0.1:{self.ports.actions}/health"
            for name, url in zip(self.rasa_names, self.rasa_urls, strict=True):
                checks[name] = f"{url}/status?token={self.rasa_api_token}"
            if self.rasa_processes > 1:
                checks["balancer"] = f"{self.rasa_url}/"
        deadline = time.monotonic() + timeout
        pending = dict(checks)
        while pending:
            for name, url in list(pending.items()):
                proc = self.processes[name]
                if proc.poll() is not None:
                    log = self.log_dir / f"{name}.log"
                    raise RuntimeError(f"{name} exited with {proc.returncode}; see {log}")
                if _answers(url):
                    del pending[name]
            if pending and time.monotonic() > deadline:
                raise TimeoutError(f"not ready after {timeout:.0f} s: {', '.join(pending)}")
            time.sleep(0.5)
        self.register_localstripe_webhook()

    def stop(self) -> None:
        for proc in self.processes.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in self.processes.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _origin(url: str) -> str:
    """scheme://host[:port] of a URL: what a browser sends as Origin."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


@contextmanager
def running(stack: Stack, timeout: float = 240.0) -> Iterator[Stack]:
    try:
        stack.start(timeout)
        yield stack
    finally:
        stack.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description="Run the whole stack in demo mode.")
    parser.add_argument("--database-url", default=f"sqlite:///{ROOT / 'var' / 'demo.db'}")
    parser.add_argument(
        "--rasa-processes", type=int, default=1,
        help="several Rasa processes behind one port, sharing the PostgreSQL tracker store "
             "(TRACKER_DB_*) and the Redis lock store (REDIS_*): docs/DEPLOYMENT.md")
    args = parser.parse_args()
    stack = Stack(
        ports=Ports(),
        env={"DEMO_MODE": "1", "DATABASE_URL": args.database_url},
        log_dir=ROOT / "var" / "log",
        demo_texting=True,
        rasa_processes=max(1, args.rasa_processes),
    )

    def on_signal(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    print("Starting backend, action server and "
          f"{stack.rasa_processes} Rasa process(es) (Rasa needs about a minute)…", flush=True)
    try:
        stack.start()
        print(
            "\nReady.\n"
            f"  Web chat (city page):   http://localhost:{stack.ports.backend}/\n"
            f"  Backend API:            http://localhost:{stack.ports.backend}/docs/openapi.json\n"
            f"  Demo outbox (codes):    http://localhost:{stack.ports.backend}/api/dev/outbox\n"
            f"  Demo phone (textos):    http://localhost:{stack.ports.backend}/demo/texto\n"
            f"  Rasa REST channel:      http://localhost:{stack.ports.rasa}/webhooks/rest/webhook"
            " (this machine only)\n"
            f"  Action server:          http://localhost:{stack.ports.actions}/health\n"
            "  Rasa HTTP API:          ?token=<RASA_API_TOKEN> (a random one when it is unset)\n"
            f"  Logs:                   {stack.log_dir}\n"
            "Ctrl-C stops everything.",
            flush=True,
        )
        while all(p.poll() is None for p in stack.processes.values()):
            time.sleep(1)
        dead = [n for n, p in stack.processes.items() if p.poll() is not None]
        print(f"Stopped: {', '.join(dead)} exited (see {stack.log_dir}).", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopping…", flush=True)
        return 0
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
