"""Courriels over STARTTLS and implicit TLS with a login, against a real local SMTP server
whose self-signed certificate is made by the test; the server's certificate is verified."""

from __future__ import annotations

import email
from collections.abc import Iterator
from email.policy import default as default_policy
from pathlib import Path

import pytest
from stand_ins import SmtpStandIn, self_signed, server_context

from backend.adapters.email import SmtpEmailSender, email_sender_from_settings
from backend.adapters.ports import DeliveryError
from backend.settings import Settings

LOGIN = ("inscriptions", "mot-de-passe-du-relais")
BODY = "Bonjour,\n\nVotre inscription est confirmée : Léa – Camp de jour.\n"


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    return self_signed(tmp_path)


@pytest.fixture
def starttls_server(certificate: tuple[Path, Path]) -> Iterator[SmtpStandIn]:
    server = SmtpStandIn(starttls=server_context(*certificate), login=LOGIN)
    server.start()
    yield server
    server.stop()


def _sender(
    port: int, security: str, ca_file: Path | None, password: str = LOGIN[1]
) -> SmtpEmailSender:
    return SmtpEmailSender(
        host="localhost",
        port=port,
        sender="inscriptions@val-fleuri.example",
        username=LOGIN[0],
        password=password,
        security=security,
        ca_file=str(ca_file) if ca_file else None,
    )


async def test_starttls_then_login_delivers(
    starttls_server: SmtpStandIn, certificate: tuple[Path, Path]
) -> None:
    settings = Settings(
        email_backend="smtp",
        smtp_host="localhost",
        smtp_port=starttls_server.port,
        smtp_security="starttls",
        smtp_username=LOGIN[0],
        smtp_password=LOGIN[1],
        smtp_ca_file=str(certificate[0]),
    )
    sender = email_sender_from_settings(settings)
    await sender.send(to="julie.tremblay@example.com", subject="Inscription confirmée", body=BODY)

    [envelope] = starttls_server.messages()
    assert starttls_server.logins == [LOGIN[0]]
    assert envelope.rcpt_tos == ["julie.tremblay@example.com"]
    parsed = email.message_from_bytes(envelope.content, policy=default_policy)
    assert "Léa – Camp de jour" in parsed.get_content()  # type: ignore[attr-defined]


async def test_plain_connection_is_refused_by_a_starttls_server(
    starttls_server: SmtpStandIn,
) -> None:
    with pytest.raises(DeliveryError):
        await _sender(starttls_server.port, "none", None).send(
            to="julie.tremblay@example.com", subject="x", body=BODY
        )
    assert starttls_server.messages() == [] and starttls_server.logins == []


async def test_an_unknown_certificate_is_refused_before_the_password_goes(
    starttls_server: SmtpStandIn,
) -> None:
    with pytest.raises(DeliveryError) as refused:
        await _sender(starttls_server.port, "starttls", None).send(
            to="julie.tremblay@example.com", subject="x", body=BODY
        )
    assert not refused.value.permanent  # the city fixes SMTP_CA_FILE, then it goes
    assert starttls_server.messages() == [] and starttls_server.logins == []


async def test_a_wrong_password_is_a_retryable_refusal(
    starttls_server: SmtpStandIn, certificate: tuple[Path, Path]
) -> None:
    with pytest.raises(DeliveryError) as refused:
        await _sender(starttls_server.port, "starttls", certificate[0], password="faux").send(
            to="julie.tremblay@example.com", subject="x", body=BODY
        )
    assert refused.value.kind == "smtp_auth" and not refused.value.permanent
    assert starttls_server.messages() == []


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_implicit_tls_with_login(certificate: tuple[Path, Path]) -> None:
    server = SmtpStandIn(implicit_tls=server_context(*certificate), login=LOGIN)
    server.start()
    try:
        await _sender(server.port, "tls", certificate[0]).send(
            to="marc.gagnon@example.com", subject="Votre code", body=BODY
        )
    finally:
        server.stop()
    [envelope] = server.messages()
    assert envelope.rcpt_tos == ["marc.gagnon@example.com"] and server.logins == [LOGIN[0]]
