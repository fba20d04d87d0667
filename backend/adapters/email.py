"""Sending courriels: SMTP (aiosmtplib, asynchronous) in production, the log in the demo.

`security` is how the connection is protected: "starttls" (submission, usually port 587: plain
connection upgraded to TLS before anything else is said), "tls" (implicit TLS, usually port
465) or "none" (a relay on the same host or network). The server's certificate is always
verified, against the system's authorities or `ca_file` (a city's own authority). Credentials
are only ever sent over TLS: the settings refuse a username with "none"
(`Settings.delivery_problems`), and STARTTLS that fails stops the send before AUTH.
"""

from __future__ import annotations

import itertools
import logging
import ssl
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import aiosmtplib

from backend.adapters.ports import DeliveryError, EmailSender

log = logging.getLogger(__name__)

SECURITY_MODES = ("none", "starttls", "tls")


class SmtpEmailSender:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        security: str = "none",
        ca_file: str | None = None,
        timeout: float = 15.0,
    ) -> None:
        if security not in SECURITY_MODES:
            raise ValueError(f"SMTP security must be one of {', '.join(SECURITY_MODES)}")
        self._host = host
        self._port = port
        self._sender = sender
        self._username = username or None
        self._password = password or None
        self._security = security
        self._tls_context = (
            ssl.create_default_context(cafile=ca_file or None) if security != "none" else None
        )
        self._timeout = timeout

    async def send(self, *, to: str, subject: str, body: str) -> str:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = to
        message["Subject"] = subject
        message_id = make_msgid(domain=self._sender.partition("@")[2] or None)
        message["Message-ID"] = message_id
        message.set_content(body, charset="utf-8")
        try:
            await aiosmtplib.send(
                message,
                hostname=self._host,
                port=self._port,
                username=self._username,
                password=self._password,
                use_tls=self._security == "tls",
                start_tls=self._security == "starttls",
                tls_context=self._tls_context,
                timeout=self._timeout,
            )
        except aiosmtplib.SMTPException as error:
            raise _refusal(error) from None
        except (OSError, ssl.SSLError):
            raise DeliveryError("smtp_unreachable") from None
        return message_id.strip("<>")


def _refusal(error: aiosmtplib.SMTPException) -> DeliveryError:
    """The server's answer as a delivery error. A 5xx about the recipient or the message will
    not change on a retry; a refused login (535) is a setting the city fixes, so it is retried
    like a 4xx, a timeout or a lost connection."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        codes = [int(e.code) for e in error.recipients]
        permanent = bool(codes) and all(500 <= code < 600 for code in codes)
        return DeliveryError(f"smtp_{codes[0] if codes else 'refused'}", permanent=permanent)
    if isinstance(error, aiosmtplib.SMTPTimeoutError):
        return DeliveryError("smtp_timeout")
    if isinstance(error, aiosmtplib.SMTPAuthenticationError):
        return DeliveryError("smtp_auth")
    if isinstance(error, aiosmtplib.SMTPResponseException):
        code = int(error.code)
        return DeliveryError(f"smtp_{code}", permanent=500 <= code < 600 and code != 535)
    return DeliveryError("smtp_unreachable")


class LogOnlyEmailSender:
    """Demo: the courriel stays readable in the outbox table; the log only says one was kept,
    never its subject or text (they hold codes and payment links) nor the whole address."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self.sent: list[tuple[str, str, str]] = []

    async def send(self, *, to: str, subject: str, body: str) -> str:
        self.sent.append((to, subject, body))
        log.info(
            "courriel kept in the outbox for ***@%s (%d characters)",
            to.partition("@")[2],
            len(body),
        )
        return f"log-email-{next(self._ids)}"


def email_sender_from_settings(settings: Any) -> EmailSender:
    if settings.email_backend == "smtp":
        return SmtpEmailSender(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_from,
            username=settings.smtp_username,
            password=settings.smtp_password,
            security=settings.smtp_security,
            ca_file=settings.smtp_ca_file,
            timeout=settings.smtp_timeout_seconds,
        )
    return LogOnlyEmailSender()
