"""Demo mode only: a local server standing in for Twilio, so that texts can be read on /demo/texto.

`python -m backend.demo_twilio --port 8025` (scripts/stack.py starts it with `make run`). It
answers the part of Twilio's REST API the twilio library uses to send a text,
`POST /2010-04-01/Accounts/{AccountSid}/Messages.json` with Basic auth (account SID and auth token
from TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN), the way api.twilio.com does; both the Rasa channel
and the backend send there through TWILIO_API_BASE. It also keeps, per phone, the texts the demo
page sent to the city's number (`POST /demo/inbound`), and lists a phone's thread in order
(`GET /demo/messages?phone=+14185550101`). Nothing leaves the machine; nothing is kept on disk.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

MAX_MESSAGES = 5_000  # a demo runs for hours at most; older texts are dropped first


@dataclass
class Phones:
    """Every text in and out, oldest first, bounded."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, direction: str, phone: str, body: str) -> dict[str, Any]:
        with self.lock:
            number = (self.messages[-1]["n"] + 1) if self.messages else 1
            message = {
                "n": number,
                "sid": f"SM{number:032x}",
                "direction": direction,  # "in": to the city's number; "out": to the phone
                "phone": phone,
                "body": body,
                "at": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            self.messages.append(message)
            del self.messages[:-MAX_MESSAGES]
            return message

    def thread(self, phone: str) -> list[dict[str, Any]]:
        with self.lock:
            return [m for m in self.messages if m["phone"] == phone]


def handler_for(phones: Phones, account_sid: str, auth_token: str) -> type[BaseHTTPRequestHandler]:
    expected_auth = "Basic " + base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
    messages_path = f"/2010-04-01/Accounts/{account_sid}/Messages.json"

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # bodies hold one-time codes: never logged
            pass

        def _form(self) -> dict[str, str]:
            length = int(self.headers.get("Content-Length", 0))
            raw = self.rfile.read(length).decode("utf-8", errors="replace")
            return {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            url = urlparse(self.path)
            if url.path == "/health":
                self._json(200, {"status": "ok"})
            elif url.path == "/demo/messages":
                phone = (parse_qs(url.query).get("phone") or [""])[0]
                self._json(200, {"messages": phones.thread(phone)})
            else:
                self._json(404, {"code": 20404, "message": "Not found", "status": 404})

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            path = urlparse(self.path).path
            form = self._form()
            if path == "/demo/inbound":
                if not form.get("phone") or not form.get("body"):
                    self._json(400, {"message": "phone and body are required", "status": 400})
                    return
                self._json(201, phones.add("in", form["phone"], form["body"]))
                return
            if self.headers.get("Authorization") != expected_auth:
                self._json(401, {"code": 20003, "message": "Authenticate", "status": 401})
                return
            if path != messages_path:
                self._json(404, {"code": 20404, "message": "Not found", "status": 404})
                return
            if not form.get("To") or not form.get("Body"):
                self._json(
                    400,
                    {"code": 21604, "message": "A 'To' and a 'Body' are required", "status": 400},
                )
                return
            sent = phones.add("out", form["To"], form["Body"])
            self._json(
                201,
                {
                    "sid": sent["sid"],
                    "account_sid": account_sid,
                    "to": form["To"],
                    "from": form.get("From", ""),
                    "body": form["Body"],
                    "status": "queued",
                    "num_segments": "1",
                    "direction": "outbound-api",
                    "api_version": "2010-04-01",
                    "uri": messages_path.replace(".json", f"/{sent['sid']}.json"),
                },
            )

        def _json(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


def serve(port: int, account_sid: str, auth_token: str) -> ThreadingHTTPServer:
    """A server on loopback (not started): `serve_forever()` runs it."""
    return ThreadingHTTPServer(("127.0.0.1", port), handler_for(Phones(), account_sid, auth_token))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8025)
    args = parser.parse_args()
    server = serve(
        args.port,
        os.environ.get("TWILIO_ACCOUNT_SID", "AC00000000000000000000000000000000"),
        os.environ.get("TWILIO_AUTH_TOKEN", "demo-twilio-auth-token"),
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
