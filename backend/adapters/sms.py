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

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from backend.adapters.ports import DeliveryError, SmsSender

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
        messaging_service_sid: str = "",
        api_base: str = "",
        timeout: float = 10.0,
    ) -> None:
        http_client = (
            _RebasedHttpClient(api_base, timeout) if api_base else TwilioHttpClient(timeout=timeout)
        )
        self._client = Client(account_sid, auth_token, http_client=http_client)
        # A Messaging Service spreads the texts over its pool of numbers (or its short code).
        self._sender: dict[str, str] = (
            {"messaging_service_sid": messaging_service_sid}
            if messaging_service_sid
            else {"from_": from_number}
        )

    def _send_blocking(self, to: str, body: str) -> str:
        try:
            message = self._client.messages.create(to=to, body=body, **self._sender)
        except TwilioRestException as error:
            raise _refusal(error) from None
        except requests.Timeout:
            raise DeliveryError("twilio_timeout") from None
        except requests.RequestException:
            raise DeliveryError("twilio_unreachable") from None
        return str(message.sid)

    async def send(self, *, to: str, body: str) -> str:
        return await asyncio.to_thread(self._send_blocking, to, body)


def _refusal(error: TwilioRestException) -> DeliveryError:
    """Twilio's answer as a delivery error. A 4xx about the message itself (an invalid or
    unsubscribed number) will not change on a retry; credentials (401, 403) and rate limits
    (429) are fixed or lifted later, so those are retried, like any 5xx."""
    status = int(error.status or 0)
    permanent = 400 <= status < 500 and status not in (401, 403, 429)
    return DeliveryError(f"twilio_{status}_{error.code or ''}".rstrip("_"), permanent=permanent)


class LogOnlySmsSender:
    """Demo: the message stays readable in the outbox table (GET /api/dev/outbox); the log only
    says one was kept, never its text (it holds codes and payment links) nor the whole number."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self.sent: list[tuple[str, str]] = []

    async def send(self, *, to: str, body: str) -> str:
        self.sent.append((to, body))
        log.info("texto kept in the outbox for ***%s (%d characters)", to[-4:], len(body))
        return f"log-sms-{next(self._ids)}"


def sms_sender_from_settings(settings: Any) -> SmsSender:
    if settings.sms_backend == "twilio":
        return TwilioSmsSender(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token,
            from_number=settings.twilio_from_number,
            messaging_service_sid=settings.twilio_messaging_service_sid,
            api_base=settings.twilio_api_base,
        )
    return LogOnlySmsSender()
