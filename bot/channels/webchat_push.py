"""A message the backend pushes into an open web conversation (the waiting room's « C'est votre
tour! »): `POST /webhooks/socketio/push` with the service secret, body
`{"conversation": "web_<hex>", "text": "..."}`.

The text becomes the bot's own message: a `BotUttered` event appended to the tracker under the
lock store's lock for that conversation (so it never interleaves with a turn being processed),
without running the policies, so an active form keeps its requested slot and the parent's next
message is read as it would have been. Then it is emitted to the socket.io room named after the
conversation, where every socket of that conversation is.

With several Rasa processes the socket may be held by another process: the channel's server
then shares a Redis message queue (`SOCKETIO_REDIS_URL`, docs/DEPLOYMENT.md), and the emit
reaches the process holding it. Single-process (the demo) needs no Redis.
"""

from __future__ import annotations

import hmac
import logging
import os
import re
import uuid
from typing import Any

import socketio
from rasa.shared.core.events import BotUttered
from sanic import Request
from sanic.response import HTTPResponse, json

logger = logging.getLogger(__name__)

CONVERSATION = re.compile(r"web_[0-9a-f]{8,48}")
MAX_TEXT = 2000


def shared_manager() -> socketio.AsyncRedisManager | None:
    """The message queue several Rasa processes share, when `SOCKETIO_REDIS_URL` names one."""
    url = os.environ.get("SOCKETIO_REDIS_URL", "").strip()
    if not url:
        return None
    channel = os.environ.get("SOCKETIO_REDIS_CHANNEL", "inscriptions-webchat")
    return socketio.AsyncRedisManager(url, channel=channel)


def share_through_redis(sio: socketio.AsyncServer) -> None:
    """Rasa 3.6 builds the channel's server itself, without a client manager: give it the
    shared one before any socket connects (the manager is initialized on the first one)."""
    manager = shared_manager()
    if manager is None:
        return
    sio.manager = manager
    manager.set_server(sio)


def authorized(request: Request) -> bool:
    secret = os.environ.get("SERVICE_SECRET", "dev-service-secret")
    given = request.headers.get("authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {secret}".encode())


def pushed_message(body: Any) -> tuple[str, str] | None:
    if not isinstance(body, dict):
        return None
    conversation, text = body.get("conversation"), body.get("text")
    if not isinstance(conversation, str) or not CONVERSATION.fullmatch(conversation):
        return None
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
        return None
    return conversation, text


async def append_bot_message(agent: Any, conversation: str, text: str) -> bool:
    """The text as the bot's own event in the conversation; False when it has no tracker."""
    async with agent.lock_store.lock(conversation):
        tracker = await agent.tracker_store.retrieve(conversation)
        if tracker is None:
            return False
        tracker.update(BotUttered(text, metadata={"pushed": True}))
        await agent.tracker_store.save(tracker)
    return True


def push_handler(sio: socketio.AsyncServer, event: str, namespace: str | None) -> Any:
    async def push(request: Request) -> HTTPResponse:
        if not authorized(request):
            return json({"error": "unauthorized"}, status=401)
        message = pushed_message(request.json if request.body else None)
        if message is None:
            return json({"error": "invalid"}, status=422)
        conversation, text = message
        agent = getattr(request.app.ctx, "agent", None)
        if agent is None or agent.tracker_store is None:
            return json({"error": "not_ready"}, status=503)
        if not await append_bot_message(agent, conversation, text):
            return json({"error": "no_conversation"}, status=404)
        await sio.emit(event, {"text": text}, room=conversation, namespace=namespace)
        logger.info("socketio: a pushed message was delivered (%d characters)", len(text))
        return json({"id": uuid.uuid4().hex})

    return push
