"""What the SMS channel works with besides Sanic: the backend's opt-out routes, Twilio's client
(rebased on a local stand-in in tests), the MessageSids already handled, the phone behind each
recent conversation, and the sealed metadata of a text.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any
from urllib.parse import quote

import aiohttp
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from bot import sealing

logger = logging.getLogger(__name__)

TWILIO_API = "https://api.twilio.com"


class BackendClient:
    """The backend's SMS opt-out routes (docs/API.md), with the service secret."""

    def __init__(self, base_url: str, service_secret: str, timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {service_secret}"}
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def _call(self, method: str, path: str, json: dict[str, str] | None = None) -> Any:
        async with (
            aiohttp.ClientSession(timeout=self._timeout, headers=self._headers) as session,
            session.request(method, self.base_url + path, json=json) as resp,
        ):
            resp.raise_for_status()
            return await resp.json()

    async def opt_out(self, phone: str) -> None:
        await self._call("POST", "/api/sms/opt-out", {"phone": phone})

    async def opt_in(self, phone: str) -> None:
        await self._call("POST", "/api/sms/opt-in", {"phone": phone})

    async def is_opted_out(self, phone: str) -> bool:
        data = await self._call("GET", f"/api/sms/status?phone={quote(phone, safe='')}")
        return bool(data["opted_out"])


class RebasedHttpClient(TwilioHttpClient):
    """Twilio's own HTTP client, sending to another base URL (a local stand-in in tests)."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if url.startswith(TWILIO_API):
            url = self.base_url + url[len(TWILIO_API) :]
        return super().request(method, url, *args, **kwargs)


def twilio_client(account_sid: str, auth_token: str, api_base: str | None) -> Client:
    http = RebasedHttpClient(api_base, timeout=10) if api_base else TwilioHttpClient(timeout=10)
    return Client(account_sid, auth_token, http_client=http)


class SeenMessages:
    """MessageSids already handled: bounded LRU in memory, or a shared Redis set with a TTL."""

    def __init__(self, capacity: int = 20_000, redis_url: str | None = None) -> None:
        self.capacity = capacity
        self._memory: OrderedDict[str, None] = OrderedDict()
        self._redis: Any = None
        if redis_url:
            from redis import asyncio as aioredis

            self._redis = aioredis.from_url(redis_url)

    async def first_time(self, sid: str) -> bool:
        """True the first time `sid` is seen (and records it), False for a retry."""
        if self._redis is not None:
            try:
                return bool(await self._redis.set(f"twilio_sms:sid:{sid}", 1, nx=True, ex=86_400))
            except Exception:  # noqa: BLE001 - Redis down: keep working on this process's memory
                logger.warning("Redis unavailable for MessageSid dedupe", exc_info=True)
        if sid in self._memory:
            self._memory.move_to_end(sid)
            return False
        self._memory[sid] = None
        while len(self._memory) > self.capacity:
            self._memory.popitem(last=False)
        return True


class ConversationPhones:
    """The phone behind each recent SMS conversation (bounded, this process only), for messages
    Rasa's API pushes to a conversation by its id: the id is a keyed hash and gives no phone."""

    def __init__(self, capacity: int = 20_000) -> None:
        self.capacity = capacity
        self._phones: OrderedDict[str, str] = OrderedDict()

    def remember(self, sender_id: str, phone: str) -> None:
        self._phones[sender_id] = phone
        self._phones.move_to_end(sender_id)
        while len(self._phones) > self.capacity:
            self._phones.popitem(last=False)

    def get(self, sender_id: str) -> str | None:
        return self._phones.get(sender_id)


def sealed_metadata(phone: str, sender_id: str) -> dict[str, Any]:
    """The only metadata a text carries: the verified sender, sealed for its conversation."""
    payload = {"channel": "twilio_sms", "phone": phone}
    return {sealing.METADATA_KEY: sealing.seal(payload, sender_id)}
