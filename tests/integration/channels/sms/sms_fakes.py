"""A local HTTP server standing in for Twilio's REST API.

It runs in a thread of the test process, on loopback, and records what it receives. It answers
the way api.twilio.com does for `POST /2010-04-01/Accounts/{sid}/Messages.json` (Basic auth with
the account SID and auth token), so the real twilio library, pointed at it, parses a real response.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


@dataclass
class SentSms:
    to: str
    from_: str
    body: str


@dataclass
class FakeTwilio:
    account_sid: str
    auth_token: str
    sent: list[SentSms] = field(default_factory=list)
    bad_auth: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def to(self, phone: str) -> list[str]:
        with self.lock:
            return [m.body for m in self.sent if m.to == phone]

    def wait_for(self, phone: str, count: int, timeout: float = 10.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            bodies = self.to(phone)
            if len(bodies) >= count:
                return bodies
            time.sleep(0.05)
        return self.to(phone)


def _handler_for_twilio(state: FakeTwilio) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802
            expected = (
                "Basic "
                + base64.b64encode(f"{state.account_sid}:{state.auth_token}".encode()).decode()
            )
            length = int(self.headers.get("Content-Length", 0))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            path = f"/2010-04-01/Accounts/{state.account_sid}/Messages.json"
            if self.headers.get("Authorization") != expected:
                with state.lock:
                    state.bad_auth += 1
                self._json(401, {"code": 20003, "message": "Authenticate", "status": 401})
                return
            if urlparse(self.path).path != path:
                self._json(404, {"code": 20404, "message": "Not found", "status": 404})
                return
            with state.lock:
                state.sent.append(SentSms(form["To"], form["From"], form["Body"]))
                n = len(state.sent)
            self._json(
                201,
                {
                    "sid": f"SM{n:032x}",
                    "account_sid": state.account_sid,
                    "to": form["To"],
                    "from": form["From"],
                    "body": form["Body"],
                    "status": "queued",
                    "num_segments": "1",
                    "direction": "outbound-api",
                    "api_version": "2010-04-01",
                    "date_created": "Thu, 29 Jul 2027 17:00:00 +0000",
                    "uri": path,
                },
            )

        def _json(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def fake_twilio(state: FakeTwilio) -> Iterator[str]:
    with serving(_handler_for_twilio(state)) as url:
        yield url
