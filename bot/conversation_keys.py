"""The key every Rasa process and the action server share (`CONVERSATION_SECRET`), and the
conversation ids derived from it: a keyed hash of what names a conversation (a phone, a web
session secret), so knowing a parent's number does not tell anyone which conversation is theirs
(docs/CHANNELS.md). Standard library only: the end-to-end tests, in the backend's environment,
name conversations with this same rule.
"""

from __future__ import annotations

import hashlib
import hmac
import os

_DEMO_SECRET = "dev-conversation-secret"


def secret() -> bytes:
    secret = os.environ.get("CONVERSATION_SECRET")
    if not secret:
        if os.environ.get("DEMO_MODE") == "1" or os.environ.get("PYTEST_CURRENT_TEST"):
            secret = _DEMO_SECRET
        else:
            raise RuntimeError("CONVERSATION_SECRET must be set (docs/DEPLOYMENT.md)")
    return secret.encode()


def key(purpose: bytes, shared: bytes | None = None) -> bytes:
    """A key for one purpose, derived from the shared secret (the environment's by default)."""
    return hmac.new(shared if shared is not None else secret(), purpose, hashlib.sha256).digest()


def conversation_id(kind: str, secret_value: str, shared: bytes | None = None) -> str:
    """The tracker's id for a conversation known by a secret value (a phone, a web session
    secret): `sms_<32 hex>` or `web_<32 hex>`, irreversible without the key."""
    digest = hmac.new(
        key(b"conversation-id", shared), f"{kind}:{secret_value}".encode(), hashlib.sha256
    )
    return f"{kind}_{digest.hexdigest()[:32]}"
