"""Courriels through aiosmtplib, received by a local aiosmtpd server."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from email.message import Message
from email.policy import default as default_policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from backend.adapters.email import SmtpEmailSender


class Collector:
    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.envelopes.append(envelope)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Collector, int]]:
    collector = Collector()
    port = _free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    yield collector, port
    controller.stop()


async def test_courriel_arrives_in_utf8(smtp: tuple[Collector, int]) -> None:
    collector, port = smtp
    sender = SmtpEmailSender(host="127.0.0.1", port=port, sender="inscriptions@val-fleuri.example")
    body = "Bonjour,\n\nVotre inscription est confirmée : Léa – Camp de jour, 95,00\u00a0$.\n"
    message_id = await sender.send(
        to="julie.tremblay@example.com", subject="Inscription confirmée – été", body=body
    )

    [envelope] = collector.envelopes
    assert envelope.rcpt_tos == ["julie.tremblay@example.com"]
    assert envelope.mail_from == "inscriptions@val-fleuri.example"
    parsed: Message = email.message_from_bytes(envelope.content, policy=default_policy)
    assert parsed["Subject"] == "Inscription confirmée – été"
    assert parsed["To"] == "julie.tremblay@example.com"
    assert message_id in parsed["Message-ID"]
    text = parsed.get_content()  # type: ignore[attr-defined]
    assert "Léa – Camp de jour, 95,00\u00a0$" in text
    assert parsed.get_content_charset() == "utf-8"
