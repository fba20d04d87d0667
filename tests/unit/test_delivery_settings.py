"""Outside demo mode the backend refuses to start when textos or courriels would only stay in
the outbox table (one-time codes and payment links nobody would ever receive)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from backend.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
STRONG = {
    "SERVICE_SECRET": "s" * 32,
    "STAFF_SECRET": "t" * 32,
    "LINK_SECRET": "l" * 32,
    "WIDGET_SECRET": "w" * 32,
    "HEALTH_KEY": "h" * 32,
    "STRIPE_SECRET_KEY": "sk_live_" + "k" * 24,
    "STRIPE_PUBLISHABLE_KEY": "pk_live_" + "p" * 24,
    "STRIPE_WEBHOOK_SECRET": "whsec_" + "w" * 24,
}
TWILIO = {
    "SMS_BACKEND": "twilio",
    "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
    "TWILIO_AUTH_TOKEN": "token",
    "TWILIO_FROM_NUMBER": "+15815550100",
}
SMTP = {"EMAIL_BACKEND": "smtp", "SMTP_SECURITY": "starttls", "SMTP_PORT": "587"}


def _start(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    return subprocess.run(
        [sys.executable, "-m", "backend"],
        cwd=ROOT,
        env=base | STRONG | env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "SMS_BACKEND=outbox"),
        (SMTP, "SMS_BACKEND=outbox"),
        (TWILIO, "EMAIL_BACKEND=outbox"),
        (TWILIO | SMTP | {"TWILIO_AUTH_TOKEN": ""}, "TWILIO_AUTH_TOKEN"),
        (TWILIO | SMTP | {"SMTP_SECURITY": "none", "SMTP_USERNAME": "relay"}, "SMTP_SECURITY"),
    ],
)
def test_backend_refuses_to_start_when_messages_would_stay_in_the_outbox(
    tmp_path: Path, env: dict[str, str], named: str
) -> None:
    result = _start(tmp_path, **env)
    assert result.returncode != 0
    assert "Refusing to start" in result.stderr and named in result.stderr


def test_every_problem_is_named_at_once() -> None:
    problems = " ".join(Settings().delivery_problems())
    assert "SMS_BACKEND" in problems and "EMAIL_BACKEND" in problems


def test_real_providers_pass_the_check() -> None:
    settings = Settings(
        sms_backend="twilio",
        twilio_account_sid="AC" + "0" * 32,
        twilio_auth_token="token",
        twilio_from_number="+15815550100",
        email_backend="smtp",
        smtp_security="starttls",
        smtp_username="relay",
        smtp_password="secret",
    )
    assert settings.delivery_problems() == []
    assert Settings(email_backend="smtp", smtp_security="tls").delivery_problems() == [
        "SMS_BACKEND=outbox: textos would only stay in the outbox (set SMS_BACKEND=twilio)"
    ]
