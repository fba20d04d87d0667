"""Per client address limits for the routes anyone on the Internet can reach.

The payment pages (`/p/<token>`) and the other public routes (the chat page, its static files,
`/health`, `/docs`) have no secret in front of them: a token bucket per client address, in each
worker's memory, caps how fast one address can try links or load pages. The gateway's webhook
is left out (it is signed, and a provider retries in bursts), and so are callers holding the
service or staff secret (the action server speaks for many parents from one address; the
identification routes count their own limits in the database).

The client address is Sanic's `request.remote_addr` when the proxy settings are configured
(`FORWARDED_SECRET`, `PROXIES_COUNT`, `REAL_IP_HEADER`, docs/DEPLOYMENT.md), else the socket's
peer: without them a forwarded-for header is ignored, so nobody escapes a bucket by writing one.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sanic import Request, Sanic
from sanic.response import HTTPResponse

from backend.adapters.clock import Clock
from backend.api.app_state import state
from backend.api.bodies import error_response
from backend.services import auth
from backend.settings import Settings

EPOCH = datetime(1970, 1, 1)
# Addresses remembered per bucket: beyond this the least recently seen are forgotten (a
# forgotten address starts again with a full bucket, which only ever errs toward the parent).
MAX_ADDRESSES = 50_000
WEBHOOK_PATH = "/api/gateway/webhook"
STAFF_PREFIX = "/api/staff"
PAY_PREFIX = "/p/"
HEALTH_PREFIX = "/sante/"  # the fiche santé pages count in the payment pages' bucket


@dataclass
class _Level:
    tokens: float
    at: float


class TokenBucket:
    """`burst` requests at once, then `per_minute` a minute, per key."""

    def __init__(self, *, burst: int, per_minute: int, clock: Clock) -> None:
        self.burst = max(1, burst)
        self.rate = max(per_minute, 1) / 60.0
        self.clock = clock
        self._levels: OrderedDict[str, _Level] = OrderedDict()

    def _now(self) -> float:
        return (self.clock.now() - EPOCH).total_seconds()

    def take(self, key: str) -> float:
        """0 when the request may go on (and one token is spent), else the seconds to wait
        before the next one would be allowed (nothing spent)."""
        now = self._now()
        level = self._levels.pop(key, None)
        if level is None:
            level = _Level(tokens=float(self.burst), at=now)
        else:
            elapsed = max(0.0, now - level.at)
            refilled = min(float(self.burst), level.tokens + elapsed * self.rate)
            level = _Level(tokens=refilled, at=now)
        self._levels[key] = level
        while len(self._levels) > MAX_ADDRESSES:
            self._levels.popitem(last=False)
        if level.tokens >= 1.0:
            level.tokens -= 1.0
            return 0.0
        return (1.0 - level.tokens) / self.rate


@dataclass
class Limiter:
    pay: TokenBucket
    public: TokenBucket

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock) -> Limiter:
        return cls(
            pay=TokenBucket(
                burst=settings.pay_burst, per_minute=settings.pay_per_minute, clock=clock
            ),
            public=TokenBucket(
                burst=settings.public_burst, per_minute=settings.public_per_minute, clock=clock
            ),
        )


def client_address(request: Request) -> str:
    return request.remote_addr or request.ip or "unknown"


def limiter(request: Request) -> Limiter:
    found: Limiter = request.app.ctx.limiter
    return found


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))


def pay_wait(request: Request) -> float:
    """For the payment page's handlers: 0 to go on, else the seconds to announce."""
    return limiter(request).pay.take(client_address(request))


def _holds_a_secret(request: Request) -> bool:
    settings = state(request).settings
    given = auth.bearer(request.headers.get("authorization"))
    return bool(given) and auth.secret_matches(given, settings.service_secret)


async def _public_routes(request: Request) -> HTTPResponse | None:
    path = request.path
    own_bucket = path.startswith((PAY_PREFIX, HEALTH_PREFIX))
    if own_bucket or path == WEBHOOK_PATH or _holds_a_secret(request):
        return None  # the payment pages count in their own bucket (backend/api/pay.py)
    if path.startswith(STAFF_PREFIX):
        return None  # password guessing is stopped per account (docs/STAFF.md, lockout)
    wait = limiter(request).public.take(client_address(request))
    if not wait:
        return None
    response = error_response(state(request).settings, "rate_limited", 429)
    response.headers["Retry-After"] = retry_after(wait)
    return response


def install(app: Sanic[Any, Any], settings: Settings, clock: Clock) -> None:
    """Proxy settings for `request.remote_addr`, the buckets, and the public routes' check."""
    app.config.FORWARDED_SECRET = settings.forwarded_secret or None
    app.config.PROXIES_COUNT = settings.proxies_count or None
    app.config.REAL_IP_HEADER = settings.real_ip_header or None
    app.ctx.limiter = Limiter.from_settings(settings, clock)
    app.register_middleware(_public_routes, "request")
