"""Sealing one short field at rest (the fiche santé's health-insurance number).

Encrypt-then-MAC from the standard library, because the backend's environment carries no AES
implementation: the keystream is HMAC-SHA256 in counter mode over a random 16-byte nonce, the
tag HMAC-SHA256 over version, nonce and ciphertext. Two keys are derived from `HEALTH_KEY`
(HMAC with distinct labels), so the cipher key never authenticates. A sealed value is
`v1.<base64url>`; a tampered, truncated or foreign value opens to nothing (`SealBroken`),
never to wrong text. When `cryptography` joins the environment, AES-GCM replaces this under a
`v2.` prefix and `v1.` values are opened and resealed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

_VERSION = b"v1"
_NONCE = 16
_TAG = 32


class SealBroken(ValueError):
    """The sealed value was altered, or sealed with another key."""


def _key(secret: str, label: bytes) -> bytes:
    return hmac.new(secret.encode("utf-8"), b"fiche-sante/" + label, hashlib.sha256).digest()


def _keystream(key: bytes, nonce: bytes, size: int) -> bytes:
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hmac.new(key, nonce + counter.to_bytes(8, "big"), hashlib.sha256).digest()
        counter += 1
    return bytes(out[:size])


def seal(plain: str, secret: str) -> str:
    data = plain.encode("utf-8")
    nonce = secrets.token_bytes(_NONCE)
    stream = _keystream(_key(secret, b"enc"), nonce, len(data))
    cipher = bytes(a ^ b for a, b in zip(data, stream, strict=True))
    tag = hmac.new(_key(secret, b"mac"), _VERSION + nonce + cipher, hashlib.sha256).digest()
    return "v1." + base64.urlsafe_b64encode(nonce + cipher + tag).decode("ascii")


def open_sealed(sealed: str, secret: str) -> str:
    version, _dot, body = sealed.partition(".")
    if version != "v1":
        raise SealBroken("unknown version")
    try:
        raw = base64.urlsafe_b64decode(body.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as bad:
        raise SealBroken("not base64") from bad
    if len(raw) < _NONCE + _TAG:
        raise SealBroken("too short")
    nonce, cipher, tag = raw[:_NONCE], raw[_NONCE:-_TAG], raw[-_TAG:]
    expected = hmac.new(_key(secret, b"mac"), _VERSION + nonce + cipher, hashlib.sha256).digest()
    if not hmac.compare_digest(tag, expected):
        raise SealBroken("tag mismatch")
    stream = _keystream(_key(secret, b"enc"), nonce, len(cipher))
    try:
        return bytes(a ^ b for a, b in zip(cipher, stream, strict=True)).decode("utf-8")
    except UnicodeDecodeError as bad:  # pragma: no cover - the tag already proved the bytes
        raise SealBroken("not text") from bad
