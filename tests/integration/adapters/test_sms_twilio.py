"""The real twilio library, pointed at a local server standing in for Twilio's Messages API."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest

from backend.adapters.sms import TwilioSmsSender

SID = "AC" + "0" * 32
TOKEN = "test-auth-token"


class FakeTwilio:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.fail = False
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", 0))
                form = parse_qs(self.rfile.read(length).decode("utf-8"))
                outer.requests.append(
                    {"path": self.path, "auth": self.headers.get("Authorization"), "form": form}
                )
                if outer.fail:
                    payload = {"code": 21211, "message": "Invalid 'To' Phone Number", "status": 400}
                    status = 400
                else:
                    payload = {
                        "sid": f"SM{len(outer.requests):032d}",
                        "account_sid": SID,
                        "to": form["To"][0],
                        "from": form["From"][0],
                        "body": form["Body"][0],
                        "status": "queued",
                    }
                    status = 201
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    fake = FakeTwilio()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


async def test_twilio_library_posts_the_message(fake_twilio: FakeTwilio) -> None:
    sender = TwilioSmsSender(
        account_sid=SID, auth_token=TOKEN, from_number="+15815550100", api_base=fake_twilio.base
    )
    body = "Val-Fleuri : votre code est 123456.\nhttp://localhost:8000/p/Ab3xY7"
    sid = await sender.send(to="+14185550101", body=body)

    assert sid.startswith("SM")
    [request] = fake_twilio.requests
    assert request["path"] == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert request["form"]["To"] == ["+14185550101"]
    assert request["form"]["From"] == ["+15815550100"]
    assert request["form"]["Body"] == [body]
    expected = base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    assert request["auth"] == f"Basic {expected}"


async def test_twilio_error_raises(fake_twilio: FakeTwilio) -> None:
    fake_twilio.fail = True
    sender = TwilioSmsSender(
        account_sid=SID, auth_token=TOKEN, from_number="+15815550100", api_base=fake_twilio.base
    )
    with pytest.raises(Exception, match="21211|Invalid"):
        await sender.send(to="+1000", body="x")
