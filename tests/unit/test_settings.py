"""A production backend must not start with the development secrets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from backend.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_development_secrets_are_reported() -> None:
    assert "SERVICE_SECRET" in Settings().insecure_defaults()
    strong = Settings(
        service_secret="s" * 32,
        link_secret="l" * 32,
        widget_secret="w" * 32,
        health_key="h" * 32,
        stripe_secret_key="sk_live_" + "k" * 24,
        stripe_publishable_key="pk_live_" + "p" * 24,
        stripe_webhook_secret="whsec_" + "w" * 24,
    )
    assert strong.insecure_defaults() == []


def test_backend_refuses_to_start_in_production_with_development_secrets(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    result = subprocess.run(
        [sys.executable, "-m", "backend"], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SERVICE_SECRET" in result.stderr
