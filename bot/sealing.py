"""What a channel vouches for, sealed so that nobody else can write it and no dump can reuse it.

A parent's identity reaches the actions only through a channel that has verified it: the SMS
channel after Twilio's signature (the sender's phone), the web chat after its session handshake
(the widget token the city's page minted). Message metadata is written by clients on the web chat
and the REST channel and is stored in the tracker, so a channel never passes an identity in clear:
it seals it with AES-GCM under a key shared by the Rasa processes and the action server
(`CONVERSATION_SECRET`), bound to the conversation id as associated data. A sealed value read
from the tracker store cannot be opened without the key, nor replayed into another conversation.

Conversation ids are keyed hashes (`bot/conversation_keys.py`, re-exported here for the channels).
"""

from __future__ import annotations

import base64
import json
import os
import time
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bot import conversation_keys
from bot.conversation_keys import conversation_id

__all__ = [
    "METADATA_KEY", "conversation_id", "decrypt_at_rest", "encrypt_at_rest", "seal", "unseal",
]

# Where a channel puts its sealed identity in a message's metadata; every other metadata key a
# client sends is dropped by our channels.
METADATA_KEY = "sealed_identity"
# A sealed identity older than this is refused (a message is sealed when it arrives).
MAX_AGE_SECONDS = 300
_key = conversation_keys.key


def seal(payload: dict[str, Any], sender_id: str, now: float | None = None) -> str:
    """`payload` encrypted and authenticated for the conversation `sender_id`."""
    body = json.dumps({**payload, "iat": int(now if now is not None else time.time())})
    nonce = os.urandom(12)
    sealed = AESGCM(_key(b"seal")).encrypt(nonce, body.encode(), sender_id.encode())
    return base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")


def unseal(token: Any, sender_id: str, now: float | None = None) -> dict[str, Any] | None:
    """The payload a channel sealed for this conversation, or None (forged, another
    conversation's, expired, or not a sealed value at all)."""
    if not isinstance(token, str) or not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        body = AESGCM(_key(b"seal")).decrypt(raw[:12], raw[12:], sender_id.encode())
        payload = json.loads(body)
    except (ValueError, InvalidTag):
        return None
    if not isinstance(payload, dict):
        return None
    age = (now if now is not None else time.time()) - float(payload.get("iat", 0))
    if not 0 <= age <= MAX_AGE_SECONDS:
        return None
    return payload


def encrypt_at_rest(value: str, sender_id: str) -> str:
    """A credential kept in a slot (the family token): opaque in the tracker store, usable only by
    the action server, for this conversation only. No expiry: the backend expires the session."""
    nonce = os.urandom(12)
    sealed = AESGCM(_key(b"at-rest")).encrypt(nonce, value.encode(), sender_id.encode())
    return "enc1." + base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")


def decrypt_at_rest(value: Any, sender_id: str) -> str | None:
    if not isinstance(value, str) or not value.startswith("enc1."):
        return None
    token = value.removeprefix("enc1.")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        return AESGCM(_key(b"at-rest")).decrypt(raw[:12], raw[12:], sender_id.encode()).decode()
    except (ValueError, InvalidTag):
        return None
