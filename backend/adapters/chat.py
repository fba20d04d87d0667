"""Pushing a message into an open chat conversation: the bot's push endpoint
(`POST /webhooks/socketio/push`, bot/channels/webchat_push.py) appends it to the conversation as
the bot's own message and sends it to the conversation's open sockets.

Without a push URL (a backend run without its bot) the message is kept in the outbox only,
like the demo's texts."""

from __future__ import annotations

import itertools
import logging
from typing import Any

import httpx

from backend.adapters.ports import ChatSender, DeliveryError

log = logging.getLogger(__name__)


class BotPushSender:
    def __init__(self, *, url: str, secret: str, timeout: float = 10.0) -> None:
        self._url = url
        self._secret = secret
        self._timeout = timeout

    async def send(self, *, conversation: str, text: str) -> str:
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                answer = await client.post(
                    self._url,
                    json={"conversation": conversation, "text": text},
                    headers={"Authorization": f"Bearer {self._secret}"},
                )
        except httpx.TimeoutException:
            raise DeliveryError("bot_timeout") from None
        except httpx.HTTPError:
            raise DeliveryError("bot_unreachable") from None
        if answer.status_code >= 400:
            # A refused secret or body, or a conversation gone, will not change on a retry; a bot
            # restarting (503) or unreachable will.
            permanent = answer.status_code in (400, 401, 403, 404, 422)
            raise DeliveryError(f"bot_{answer.status_code}", permanent=permanent)
        found: Any = answer.json() if answer.content else {}
        return str((found or {}).get("id") or f"push-{conversation[-6:]}")


class LogOnlyChatSender:
    """No bot to push to: the message stays readable in the outbox table."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self.sent: list[tuple[str, str]] = []

    async def send(self, *, conversation: str, text: str) -> str:
        self.sent.append((conversation, text))
        log.info("chat message kept in the outbox (%d characters)", len(text))
        return f"log-chat-{next(self._ids)}"


def chat_sender_from_settings(settings: Any) -> ChatSender:
    if settings.bot_push_url:
        return BotPushSender(url=settings.bot_push_url, secret=settings.service_secret)
    return LogOnlyChatSender()
