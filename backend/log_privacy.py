"""What never reaches a log line: payment-link tokens, one-time codes, family and widget tokens,
message bodies and health details (Law 25; logs are copied to places the database is not).

Two hooks, because Python logging gives no single one:
- a log record factory masks the message, its arguments and any traceback of every record,
  from whichever logger, as the record is made;
- a filter on Sanic's loggers (access, root, error, server) and on the app's own loggers masks
  what `extra=` adds after the record is made: Sanic's access log writes the request line
  ("GET http://…/p/<token>") there.

Masking is by shape, since a log call does not say what its values are: a `/p/<token>` path,
a group of 6 digits (a code; client numbers are masked too, which costs nothing), a long
random-looking word (family tokens, challenge ids, signatures), a phone number (all but its
last 4 digits); and by name for the extras known to hold a secret or a health detail.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

MASK = "[masqué]"

# The payment pages and the fiche santé pages: the path is the credential.
_PAY_PATH = re.compile(r"(/p/|/sante/)[^\s/?#\"'<>&]+")
_CODE = re.compile(r"(?<![\w.])\d{6}(?!\w|\.\d)|(?<![\w.])\d{3}[ -]\d{3}(?!\w|\.\d|[ -]\d)")
# A payment-link token is 11 url-safe characters, a family token 32.
_WORD = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{11,}(?![A-Za-z0-9_-])")
_PHONE = re.compile(r"(?<!\d)(\+?1[ .-]?)?\(?\d{3}\)?[ .-]?\d{3}[ .-]?(\d{4})(?!\d)")

# Extras (and attributes) whose whole value is a secret or a health detail.
SENSITIVE_FIELDS = frozenset(
    {
        "code", "otp", "token", "family_token", "widget_token", "pay_token", "password",
        "secret", "authorization", "body", "subject", "card_number", "health", "health_record",
        "allergies", "medication", "medications", "diagnosis", "notes", "nas", "conditions",
        "epipen", "insurance_number", "insurance_expiry", "ramq",
    }
)

_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}

SANIC_LOGGERS = ("sanic.access", "sanic.root", "sanic.error", "sanic.server", "sanic.websockets")
APP_LOGGERS = ("backend", "httpx", "httpcore", "twilio", "aiosmtplib", "sqlalchemy")


# A part of a name written by a person: "Runtime", "Error", "challenge", "HTTP", "v2", "7".
_NAME_PART = re.compile(r"(?:[A-Z]?[a-z]{2,})+\d{0,2}|[A-Z]{2,5}\d{0,2}|\d{1,4}")


def _random_looking(word: str) -> bool:
    """A token (random letters and digits), not a name such as `RuntimeError` or
    `identity_challenge_phone_key` (every part between `_` and `-` reads like a word)."""
    parts = [part for part in re.split(r"[_-]", word) if part]
    return not all(_NAME_PART.fullmatch(part) for part in parts)


def mask(text: str) -> str:
    """`text` with every link token, code, token-like word and phone number masked."""
    text = _PAY_PATH.sub(lambda m: m.group(1) + MASK, text)
    text = _WORD.sub(lambda m: MASK if _random_looking(m.group(0)) else m.group(0), text)
    text = _PHONE.sub(lambda m: "***-***-" + m.group(2), text)
    return _CODE.sub(MASK, text)


def redact(record: logging.LogRecord) -> None:
    """Mask `record` in place; running it again changes nothing."""
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a badly formatted call still must not leak its args
        message = f"{record.msg} {record.args!r}"
    record.msg, record.args = mask(message), None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    # The exception object itself stays out of reach: a handler formatting it again (or one
    # shipping it elsewhere) would print its message, codes and links included. Formatters
    # print `exc_text`, masked, instead.
    record.exc_info = None
    if record.exc_text:
        record.exc_text = mask(record.exc_text)
    if record.stack_info:
        record.stack_info = mask(record.stack_info)
    for name, value in list(vars(record).items()):
        if name in _STANDARD:
            continue
        if name.lower() in SENSITIVE_FIELDS:
            setattr(record, name, MASK)
        elif isinstance(value, str):
            setattr(record, name, mask(value))


class PrivacyFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        redact(record)
        return True


_FILTER = PrivacyFilter()


def _factory(previous: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        redact(record)
        return record

    make.privacy_masking = True  # type: ignore[attr-defined]
    return make


def install() -> None:
    """Idempotent: the record factory once per process, the filter once per logger."""
    current = logging.getLogRecordFactory()
    if not getattr(current, "privacy_masking", False):
        logging.setLogRecordFactory(_factory(current))
    names = {*SANIC_LOGGERS, *APP_LOGGERS, ""}
    names |= {
        name
        for name in logging.Logger.manager.loggerDict
        if name.split(".")[0] in {"backend", "sanic", "sanic_ext"}
    }
    for name in names:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
        for handler in logger.handlers:
            if _FILTER not in handler.filters:
                handler.addFilter(_FILTER)
