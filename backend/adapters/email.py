"""Sending courriels: SMTP (aiosmtplib, asynchronous) in production, the log in the demo."""

from __future__ import annotations

import itertools
import logging
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import aiosmtplib

from backend.services.outbox import EmailSender

log = logging.getLogger(__name__)


class SmtpEmailSender:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        start_tls: bool | None = False,
        timeout: float = 15.0,
    ) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._username = username
        self._password = password
        self._start_tls = start_tls
        self._timeout = timeout

    async def send(self, *, to: str, subject: str, body: str) -> str:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = to
        message["Subject"] = subject
        message_id = make_msgid(domain=self._sender.partition("@")[2] or None)
        message["Message-ID"] = message_id
        message.set_content(body, charset="utf-8")
        await aiosmtplib.send(
            message,
            hostname=self._host,
            port=self._port,
            username=self._username,
            password=self._password,
            start_tls=self._start_tls,
            timeout=self._timeout,
        )
        return message_id.strip("<>")


class LogOnlyEmailSender:
    """Demo: the courriel stays readable in the outbox table and the log."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self.sent: list[tuple[str, str, str]] = []

    async def send(self, *, to: str, subject: str, body: str) -> str:
        self.sent.append((to, subject, body))
        log.info("Courriel to %s: %s\n%s", to, subject, body)
        return f"log-email-{next(self._ids)}"


def email_sender_from_settings(settings: Any) -> EmailSender:
    if settings.email_backend == "smtp":
        return SmtpEmailSender(
            host=settings.smtp_host, port=settings.smtp_port, sender=settings.smtp_from
        )
    return LogOnlyEmailSender()
