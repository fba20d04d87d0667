"""Sending text messages: Twilio in production, the log (and the outbox table) in the demo.

`TwilioSmsSender` uses the real twilio library. The library is synchronous (requests), so each
send runs in a worker thread: the event loop is never blocked while Twilio answers. Setting
`TWILIO_API_BASE` sends the library's requests to another host (tests start a local HTTP server
standing in for Twilio's Messages API and check what it received).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from typing import Any

from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from backend.services.outbox import SmsSender

log = logging.getLogger(__name__)

TWILIO_API = "https://api.twilio.com"


class _RebasedHttpClient(TwilioHttpClient):  # type: ignore[misc]
    """The standard twilio HTTP client, with api.twilio.com replaced by another base URL."""

    def __init__(self, api_base: str, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self._api_base = api_base.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if url.startswith(TWILIO_API):
            url = self._api_base + url[len(TWILIO_API) :]
        return super().request(method, url, *args, **kwargs)


class TwilioSmsSender:
    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str,
        api_base: str = "",
        timeout: float = 10.0,
    ) -> None:
        http_client = (
            _RebasedHttpClient(api_base, timeout) if api_base else TwilioHttpClient(timeout=timeout)
        )
        self._client = Client(account_sid, auth_token, http_client=http_client)
        self._from = from_number

    def _send_blocking(self, to: str, body: str) -> str:
        message = self._client.messages.create(to=to, from_=self._from, body=body)
        return str(message.sid)

    async def send(self, *, to: str, body: str) -> str:
        return await asyncio.to_thread(self._send_blocking, to, body)


class LogOnlySmsSender:
    """Demo: the message stays readable in the outbox table (GET /api/dev/outbox) and the log."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self.sent: list[tuple[str, str]] = []

    async def send(self, *, to: str, body: str) -> str:
        self.sent.append((to, body))
        log.info("SMS to %s:\n%s", to, body)
        return f"log-sms-{next(self._ids)}"


def sms_sender_from_settings(settings: Any) -> SmsSender:
    if settings.sms_backend == "twilio":
        return TwilioSmsSender(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token,
            from_number=settings.twilio_from_number,
            api_base=settings.twilio_api_base,
        )
    return LogOnlySmsSender()
