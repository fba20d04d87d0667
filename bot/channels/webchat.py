"""The web chat's socket.io channel: Rasa's transport, with the conversation decided by the server.

Rasa 3.6's SocketIOInput takes the conversation id from each `user_uttered` event (`session_id`)
and the metadata from the event too: any page, or a script that never opened the chat, could
write into any conversation (an SMS conversation included) and claim any identity. Here:

- `session_request` is the only way into a conversation. The server issues a secret S of 32 hex
  characters (or accepts the S the browser kept from an earlier `session_confirm`); the room and
  the Rasa conversation id are `sealing.conversation_id("web", S)`. S goes back to that socket
  only; the conversation id, which shows in logs and the tracker store, does not let anyone in.
- The server remembers socket id -> conversation (and the widget token the page sent in
  `session_request`, if any). `user_uttered` uses only that: its `session_id`, `metadata` and
  `customData` are ignored, and a socket that never sent `session_request` is answered that the
  chat must be reopened, its message dropped.
- Metadata is only `{METADATA_KEY: seal({"channel": "socketio", "widget_token": T}, id)}`.
- Messages are limited per client address and per conversation (bot/channels/ratelimit.py);
  past the limit the page gets a French sentence and Rasa nothing.
- A turn that produced no reply (action server or backend down) gets a French "technical problem"
  sentence (bot/channels/answered.py).
- `enter_room` is awaited (Rasa 3.6 forgets to since python-socketio 5.10: RasaHQ/rasa#13027).
- `POST /webhooks/socketio/push` (service secret) puts a backend message into a conversation as
  the bot's own, across processes through Redis when `SOCKETIO_REDIS_URL` is set
  (bot/channels/webchat_push.py).

It keeps Rasa's name `socketio`: same `/webhooks/socketio/` prefix, same
`output_channel=socketio` for pushes. Credentials (bot/credentials.yml)::

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
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

from bot import sealing
from bot.channels.answered import always_answered
from bot.channels.ratelimit import ChannelLimits
from bot.channels.texts import text as catalog_text
from bot.channels.webchat_push import push_handler, share_through_redis

logger = logging.getLogger(__name__)

_SECRET = re.compile(r"[0-9a-f]{32}")
# A widget token is short (docs/CHANNELS.md); anything longer is not one.
_MAX_TOKEN_LENGTH = 512
_MAX_MESSAGE_LENGTH = 2000


def session_secret_from(data: Any) -> str:
    """The secret the page asks to resume when it is of the form we issue, else a new one."""
    requested = data.get("session_id") if isinstance(data, dict) else None
    if isinstance(requested, str) and _SECRET.fullmatch(requested):
        return requested
    return uuid.uuid4().hex


def widget_token_from(data: Any) -> str | None:
    token = data.get("widget_token") if isinstance(data, dict) else None
    if isinstance(token, str) and 0 < len(token) <= _MAX_TOKEN_LENGTH:
        return token
    return None


@dataclass(frozen=True)
class WebSession:
    conversation: str
    widget_token: str | None
    address: str | None


class WebChatInput(SocketIOInput):
    """Rasa's socket.io channel; the server, not the page, says which conversation is whose."""

    @classmethod
    def name(cls) -> str:
        return "socketio"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sessions: dict[str, WebSession] = {}
        self.limits = ChannelLimits.from_env("WEB")

    def metadata_for(self, session: WebSession) -> dict[str, Any]:
        if not session.widget_token:
            return {}
        payload = {"channel": "socketio", "widget_token": session.widget_token}
        return {sealing.METADATA_KEY: sealing.seal(payload, session.conversation)}

    def _address(self, sid: str) -> str | None:
        assert self.sio is not None
        try:
            request = self.sio.get_environ(sid, namespace=self.namespace).get("sanic.request")
        except (KeyError, AttributeError):
            return None
        return getattr(request, "ip", None) if request is not None else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        on_new_message = always_answered(on_new_message)
        blueprint = super().blueprint(on_new_message)
        sio = self.sio
        assert sio is not None
        namespace = self.namespace
        share_through_redis(sio)
        blueprint.add_route(
            push_handler(sio, self.bot_message_evt, namespace), "/push", methods=["POST"]
        )

        async def say(sid: str, key: str) -> None:
            await sio.emit(
                self.bot_message_evt, {"text": catalog_text(key)}, room=sid, namespace=namespace
            )

        async def session_request(sid: str, data: Any) -> None:
            secret = session_secret_from(data)
            conversation = sealing.conversation_id("web", secret)
            previous = self.sessions.get(sid)
            if previous is not None and previous.conversation != conversation:
                await sio.leave_room(sid, previous.conversation, namespace=namespace)
            self.sessions[sid] = WebSession(
                conversation, widget_token_from(data), self._address(sid)
            )
            await sio.enter_room(sid, conversation, namespace=namespace)
            await sio.emit("session_confirm", secret, room=sid, namespace=namespace)

        async def handle_message(sid: str, data: Any) -> None:
            session = self.sessions.get(sid)
            if session is None:
                logger.warning("socketio: a message from a socket without a session was refused")
                await say(sid, "chat.no_session")
                return
            if not self.limits.allow(session.address, session.conversation):
                logger.warning("socketio: message over the rate limit dropped")
                await say(sid, "chat.too_many")
                return
            raw = data.get("message") if isinstance(data, dict) else None
            text = raw[:_MAX_MESSAGE_LENGTH] if isinstance(raw, str) else ""
            message = UserMessage(
                text,
                SocketIOOutput(sio, self.bot_message_evt),
                session.conversation,
                input_channel=self.name(),
                metadata=self.metadata_for(session),
            )
            await on_new_message(message)

        async def disconnect(sid: str) -> None:
            self.sessions.pop(sid, None)

        # Registering an event again replaces Rasa's handler.
        sio.on("session_request", session_request, namespace=namespace)
        sio.on(self.user_message_evt, handle_message, namespace=namespace)
        sio.on("disconnect", disconnect, namespace=namespace)
        return blueprint
