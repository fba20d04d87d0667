"""How many messages one client address and one conversation may send: token buckets.

A script on the public web chat, or a burst of texts to the city's number, must not flood a
conversation (each message is a turn of the bot and calls to the backend) nor let one address try
conversation after conversation. Each channel keeps two limiters: per client address and per
conversation (web session or phone). A bucket holds `burst` messages and refills at `per_minute`;
an empty bucket refuses the message before it reaches Rasa.

Limits come from the environment (per process: several Rasa processes each keep their own),
`<CH>` being `WEB` or `SMS`:

| variable | web default | SMS default |
|---|---|---|
| `<CH>_RATE_PER_MINUTE_CONVERSATION` | 20 | 20 |
| `<CH>_RATE_BURST_CONVERSATION` | 10 | 10 |
| `<CH>_RATE_PER_MINUTE_ADDRESS` | 60 | 600 |
| `<CH>_RATE_BURST_ADDRESS` | 30 | 300 |

A parent types far below these: a registration takes about a dozen messages over minutes. On SMS
every request comes from Twilio's few addresses (the signature says it is Twilio), so the
per-address limit there only bounds the whole webhook; the per-phone one is what stops a flood.
"""

from __future__ import annotations

import os
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field


def _env_number(name: str, default: float) -> float:
    raw = os.environ.get(name, "")
    try:
        value = float(raw) if raw.strip() else default
    except ValueError:
        return default
    return value if value > 0 else default


@dataclass
class TokenBuckets:
    """One bucket per key; the least recently used keys are forgotten past `max_keys`."""

    per_minute: float
    burst: float
    max_keys: int = 50_000
    clock: Callable[[], float] = time.monotonic
    _buckets: OrderedDict[str, tuple[float, float]] = field(default_factory=OrderedDict)

    def allow(self, key: str) -> bool:
        """Takes one token for `key`; False when its bucket is empty."""
        now = self.clock()
        tokens, last = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.per_minute / 60.0)
        allowed = tokens >= 1.0
        self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return allowed


@dataclass
class ChannelLimits:
    """The two limiters of one channel; a message passes only when both have a token."""

    by_address: TokenBuckets
    by_conversation: TokenBuckets

    @classmethod
    def from_env(cls, channel: str, address_per_minute: float = 60) -> ChannelLimits:
        """`channel` is the variables' prefix ("WEB", "SMS")."""
        return cls(
            by_address=TokenBuckets(
                _env_number(f"{channel}_RATE_PER_MINUTE_ADDRESS", address_per_minute),
                _env_number(f"{channel}_RATE_BURST_ADDRESS", address_per_minute / 2),
            ),
            by_conversation=TokenBuckets(
                _env_number(f"{channel}_RATE_PER_MINUTE_CONVERSATION", 20),
                _env_number(f"{channel}_RATE_BURST_CONVERSATION", 10),
            ),
        )

    def allow(self, address: str | None, conversation: str) -> bool:
        # Both buckets are charged, so a refused address does not keep a conversation's tokens.
        address_ok = self.by_address.allow(address or "unknown")
        conversation_ok = self.by_conversation.allow(conversation)
        return address_ok and conversation_ok
