"""The web chat's socket.io channel: Rasa's own, with the session room actually joined.

Rasa 3.6's SocketIOInput calls `sio.enter_room(...)` without `await`; since python-socketio 5.10
that method is a coroutine, so with `session_persistence: true` the socket never joins its session's
room and the bot's replies (sent to that room) never reach the page (RasaHQ/rasa#13027). This
subclass replaces the `session_request` handler with one that awaits it, and only accepts a
session id the server could have issued (32 hex characters), so a page cannot pick a room name of
its choosing.

Everything else (events `user_uttered` / `bot_uttered`, metadata key, output channel, the
`/webhooks/socketio/` prefix) is Rasa's. Credentials (bot/credentials.yml), instead of `socketio:`::

    bot.channels.webchat.WebChatInput:
      user_message_evt: user_uttered
      bot_message_evt: bot_uttered
      session_persistence: true
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint

logger = logging.getLogger(__name__)

_SESSION_ID = re.compile(r"[0-9a-f]{32}")


def session_id_from(data: Any) -> str:
    """The session id the page asks to resume when it is one of ours, else a new one."""
    requested = data.get("session_id") if isinstance(data, dict) else None
    if isinstance(requested, str) and _SESSION_ID.fullmatch(requested):
        return requested
    return uuid.uuid4().hex


class WebChatInput(SocketIOInput):
    """Rasa's socket.io channel with a session handler that works on python-socketio 5.10+."""

    @classmethod
    def name(cls) -> str:
        # Same name as Rasa's: same URL prefix, and `output_channel=socketio` still finds it.
        return "socketio"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
        sio = self.sio
        assert sio is not None

        async def session_request(sid: str, data: Any) -> None:
            session_id = session_id_from(data)
            if self.session_persistence:
                await sio.enter_room(sid, session_id, namespace=self.namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        # Registering the event again replaces Rasa's handler.
        sio.on("session_request", session_request, namespace=self.namespace)
        return blueprint
