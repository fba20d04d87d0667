"""Rasa's REST channel for this machine only: `make run`, the tests and the benchmarks.

Rasa's `rest` channel lets whoever calls it choose the conversation (`sender`), the channel name
(`input_channel`) and the metadata: exactly what identifies a family on the other channels. It is
therefore absent from the production credentials (bot/credentials.yml) and this variant, listed
in bot/credentials-local.yml only,
- answers loopback clients only (127.0.0.0/8, ::1): 403 for anyone else, even behind a proxy
  that would forward to it (the proxy's own address is what Sanic sees);
- forces `input_channel` to "rest" whatever the body says, and drops all client metadata, so no
  message from it carries an identity: a REST conversation identifies with a code like anyone;
- refuses a `sender` naming another channel's conversation (`sms_…`, `web_…`);
- answers for the bot when a turn produced nothing (bot/channels/answered.py).
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.answered import always_answered

logger = logging.getLogger(__name__)

OTHER_CHANNELS_PREFIXES = ("sms_", "web_")


def is_loopback(address: str | None) -> bool:
    try:
        return bool(address) and ipaddress.ip_address(str(address)).is_loopback
    except ValueError:
        return False


class LocalRestInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    def _extract_input_channel(self, req: Request) -> str:
        return self.name()

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        return None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(always_answered(on_new_message))

        @blueprint.middleware("request")
        async def local_only(request: Request) -> HTTPResponse | None:
            if not is_loopback(request.ip):
                logger.warning("rest: refused a request from a non-loopback address")
                return response.json(
                    {"error": "the REST channel answers this machine only"}, status=403
                )
            body = request.json if request.method == "POST" else None
            sender = body.get("sender") if isinstance(body, dict) else None
            if isinstance(sender, str) and sender.startswith(OTHER_CHANNELS_PREFIXES):
                return response.json(
                    {"error": "that conversation belongs to another channel"}, status=403
                )
            return None

        return blueprint
