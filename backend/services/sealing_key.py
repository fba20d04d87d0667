"""Sealing one short field at rest (the fiche santé's health-insurance number).

AES-256-GCM (the `cryptography` library): a random 96-bit nonce per value, the version as
associated data, the key derived from `HEALTH_KEY` with HKDF-SHA256 under its own label, so the
setting is never used as a key itself. A sealed value is `v2.<base64url(nonce + ciphertext +
tag)>`; a tampered, truncated or foreign value opens to nothing (`SealBroken`), never to wrong
text. Losing `HEALTH_KEY` loses the sealed values (docs/DEPLOYMENT.md).
"""

from __future__ import annotations

import base64
import secrets
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_VERSION = "v2"
_NONCE = 12
_TAG = 16


class SealBroken(ValueError):
    """The sealed value was altered, or sealed with another key."""


@lru_cache(maxsize=8)
def _cipher(secret: str) -> AESGCM:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"inscriptions/fiche-sante/v2"
    ).derive(secret.encode("utf-8"))
    return AESGCM(key)


def seal(plain: str, secret: str) -> str:
    nonce = secrets.token_bytes(_NONCE)
    sealed = _cipher(secret).encrypt(nonce, plain.encode("utf-8"), _VERSION.encode("ascii"))
    return f"{_VERSION}." + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def open_sealed(sealed: str, secret: str) -> str:
    version, _dot, body = sealed.partition(".")
    if version != _VERSION:
        raise SealBroken("unknown version")
    try:
        raw = base64.urlsafe_b64decode(body.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as bad:
        raise SealBroken("not base64") from bad
    if len(raw) < _NONCE + _TAG:
        raise SealBroken("too short")
    try:
        data = _cipher(secret).decrypt(raw[:_NONCE], raw[_NONCE:], _VERSION.encode("ascii"))
    except InvalidTag as bad:
        raise SealBroken("tag mismatch") from bad
    return data.decode("utf-8")
