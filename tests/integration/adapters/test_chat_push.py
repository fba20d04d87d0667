"""The outbox's chat channel: a dispatcher with the bot's push sender POSTs the message, with the
service secret, to a local HTTP server standing in for the bot's push endpoint; the row is sent,
refused for good (a conversation gone) or left for a dispatcher that can push."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from backend.adapters.chat import BotPushSender
from backend.adapters.clock import ManualClock
from backend.adapters.email import LogOnlyEmailSender
from backend.adapters.sms import LogOnlySmsSender
from backend.db.base import Base
from backend.db.engine import make_engine, make_session_factory, transaction
from backend.db.notifications import Channel, Notification, NotificationStatus
from backend.services import dispatch, outbox

NOW = datetime(2027, 4, 20, 23, 0)
OPEN = "web_" + "ab" * 16
GONE = "web_" + "cd" * 16


@pytest.fixture
def factory(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'chat.db'}")
    Base.metadata.create_all(engine)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def bot() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """The bot's push endpoint: 200 for the open conversation, 404 for one it does not know."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append({"auth": self.headers.get("Authorization"), **body})
            status = 200 if body["conversation"] == OPEN else 404
            payload = json.dumps({"id": "pushed-1"} if status == 200 else {}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/webhooks/socketio/push", received
    finally:
        server.shutdown()
        server.server_close()


def _chat_rows(factory: sessionmaker[Session], clock: ManualClock) -> list[int]:
    params = {"grace_minutes": 10, "expires_at": "2027-04-20T23:10:00"}
    with transaction(factory) as db:
        rows = [
            outbox.enqueue_to_contact(
                db, clock=clock, channel=Channel.CHAT, recipient=to, kind="admission",
                params=params,
            )
            for to in (OPEN, GONE)
        ]
        return [r.id for r in rows]


def _statuses(factory: sessionmaker[Session], ids: list[int]) -> list[NotificationStatus]:
    with transaction(factory) as db:
        return [db.get(Notification, i).status for i in ids]  # type: ignore[union-attr]


async def test_a_dispatcher_pushes_chat_messages_to_the_bot(
    factory: sessionmaker[Session], bot: tuple[str, list[dict[str, Any]]]
) -> None:
    url, received = bot
    clock = ManualClock(NOW)
    ids = _chat_rows(factory, clock)
    senders = {"sms": LogOnlySmsSender(), "email": LogOnlyEmailSender()}

    # A dispatcher that cannot push leaves them for one that can.
    assert await dispatch.dispatch_pending(factory, clock=clock, **senders) == 0  # type: ignore[arg-type]
    assert _statuses(factory, ids) == [NotificationStatus.PENDING] * 2 and received == []

    pusher = BotPushSender(url=url, secret="le-secret-de-service")
    sent = await dispatch.dispatch_pending(factory, clock=clock, chat=pusher, **senders)  # type: ignore[arg-type]
    assert sent == 1
    # Delivered to the open conversation; the one the bot no longer knows is given up at once.
    assert _statuses(factory, ids) == [NotificationStatus.SENT, NotificationStatus.FAILED]
    assert [r["conversation"] for r in received] == [OPEN, GONE]
    assert {r["auth"] for r in received} == {"Bearer le-secret-de-service"}
    assert received[0]["text"].startswith("C'est votre tour! Vous pouvez maintenant inscrire")
