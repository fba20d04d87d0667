"""Signed, expiring tokens that a city's own web site hands to the chat widget.

The city's site already knows who is logged in. It proves it to us with a short string that it
signs with a secret shared with this service (setting `WIDGET_SECRET`); the backend checks it and
turns it into a family session token, so the bot can skip identification.

The format is deliberately plain so that any language can produce it (see docs/CHANNELS.md for PHP
and C# examples)::

    payload = "v1." + client_number + "." + expires_unix + "." + nonce
    token   = payload + "." + lowercase_hex(HMAC_SHA256(key=secret_utf8, msg=payload_utf8))

- `client_number`: the family's client number, letters and digits only (1 to 32 characters);
- `expires_unix`: the instant the token stops being accepted, in whole seconds since 1970-01-01
  UTC (decimal, no sign, no leading zero);
- `nonce`: 8 to 64 characters among A-Z a-z 0-9 `_` `-`, random; it makes two tokens for the same
  family and second different, and is otherwise not interpreted.

Nothing here does I/O or reads the clock: callers pass `now` (naive UTC, as the Clock gives it).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime

VERSION = "v1"
DEFAULT_TTL_SECONDS = 900
# A token claiming to live longer than this is refused: a leaked token must not work for days.
MAX_TTL_SECONDS = 3600

_CLIENT_NUMBER = re.compile(r"[A-Za-z0-9]{1,32}")
_NONCE = re.compile(r"[A-Za-z0-9_-]{8,64}")
_EXPIRES = re.compile(r"[1-9][0-9]{0,11}")
_MAC = re.compile(r"[0-9a-f]{64}")


class WidgetTokenError(Exception):
    """The token cannot be accepted; the parent is identified the usual way instead."""


class MalformedWidgetToken(WidgetTokenError):
    """Not a v1 widget token at all (wrong shape, wrong version, bad characters)."""


class ForgedWidgetToken(WidgetTokenError):
    """Well formed but its signature does not match: not minted with our shared secret."""


class ExpiredWidgetToken(WidgetTokenError):
    """Genuine but past its expiry (or claiming an expiry too far ahead to be trusted)."""


def _unix(now: datetime) -> int:
    """Whole seconds since the epoch; a naive datetime is UTC (the Clock's convention)."""
    aware = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    return int(aware.timestamp())


def _mac(payload: str, secret: str) -> str:
    return hmac.new(secret.encode("utf-8"), payload.encode("utf-8"), hashlib.sha256).hexdigest()


def mint_widget_token(
    client_number: str,
    secret: str,
    now: datetime,
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
    nonce: str | None = None,
) -> str:
    """A token naming `client_number`, valid `ttl_seconds` from `now`."""
    if not _CLIENT_NUMBER.fullmatch(client_number):
        raise ValueError("client_number must be 1 to 32 letters or digits")
    if not secret:
        raise ValueError("an empty secret would let anyone mint tokens")
    if not 0 < ttl_seconds <= MAX_TTL_SECONDS:
        raise ValueError(f"ttl_seconds must be between 1 and {MAX_TTL_SECONDS}")
    nonce = nonce if nonce is not None else secrets.token_urlsafe(12)
    if not _NONCE.fullmatch(nonce):
        raise ValueError("nonce must be 8 to 64 characters among A-Z a-z 0-9 _ -")
    payload = f"{VERSION}.{client_number}.{_unix(now) + ttl_seconds}.{nonce}"
    return f"{payload}.{_mac(payload, secret)}"


def verify_widget_token(token: str, secret: str, now: datetime) -> str:
    """The client number the token names, or a WidgetTokenError saying why it is refused.

    The signature is checked (in constant time) before the expiry, so a forged token is reported
    as forged whatever expiry it claims.
    """
    if not secret:
        raise ValueError("no widget secret configured")
    parts = token.strip().split(".")
    if len(parts) != 5:
        raise MalformedWidgetToken("expected 5 dot-separated fields")
    version, client_number, expires, nonce, mac = parts
    if version != VERSION:
        raise MalformedWidgetToken("unknown version")
    if not (
        _CLIENT_NUMBER.fullmatch(client_number)
        and _EXPIRES.fullmatch(expires)
        and _NONCE.fullmatch(nonce)
        and _MAC.fullmatch(mac)
    ):
        raise MalformedWidgetToken("a field has the wrong shape")
    payload = f"{version}.{client_number}.{expires}.{nonce}"
    if not hmac.compare_digest(_mac(payload, secret), mac):
        raise ForgedWidgetToken("signature mismatch")
    now_unix = _unix(now)
    expires_unix = int(expires)
    if expires_unix <= now_unix:
        raise ExpiredWidgetToken("token expired")
    if expires_unix - now_unix > MAX_TTL_SECONDS:
        raise ExpiredWidgetToken("expiry too far in the future")
    return client_number
