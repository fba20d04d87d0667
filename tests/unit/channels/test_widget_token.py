"""The widget token a city's site mints: accepted when genuine, refused otherwise."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from backend.services.widget_token import (
    ExpiredWidgetToken,
    ForgedWidgetToken,
    MalformedWidgetToken,
    WidgetTokenError,
    mint_widget_token,
    verify_widget_token,
)

SECRET = "dev-widget-secret"
NOW = datetime(2027, 7, 29, 16, 45)  # naive UTC, as the Clock gives it


def test_round_trip_names_the_family() -> None:
    token = mint_widget_token("100001", SECRET, NOW)
    assert verify_widget_token(token, SECRET, NOW + timedelta(minutes=14)) == "100001"


def test_matches_the_documented_format_computed_by_openssl() -> None:
    # Vector from docs/CHANNELS.md, computed outside Python with: printf '%s' \
    #   'v1.100001.1816880400.demoNonce42' | openssl dgst -sha256 -hmac 'dev-widget-secret'
    token = mint_widget_token("100001", SECRET, NOW, ttl_seconds=900, nonce="demoNonce42")
    assert token == (
        "v1.100001.1816880400.demoNonce42."
        "425d1780254ab231ec8f4a200463ef54d86f72ae1fe3ff83818e99e4eb34606b"
    )
    assert verify_widget_token(token, SECRET, NOW) == "100001"


def test_two_tokens_for_the_same_family_differ() -> None:
    assert mint_widget_token("100001", SECRET, NOW) != mint_widget_token("100001", SECRET, NOW)


def test_expired_token_is_refused() -> None:
    token = mint_widget_token("100001", SECRET, NOW, ttl_seconds=900)
    with pytest.raises(ExpiredWidgetToken):
        verify_widget_token(token, SECRET, NOW + timedelta(seconds=900))


def test_token_claiming_a_far_expiry_is_refused() -> None:
    payload = "v1.100001.1999999999.abcdefgh12"
    import hashlib
    import hmac

    mac = hmac.new(SECRET.encode(), payload.encode(), hashlib.sha256).hexdigest()
    with pytest.raises(ExpiredWidgetToken):
        verify_widget_token(f"{payload}.{mac}", SECRET, NOW)


def test_other_secret_is_forged() -> None:
    token = mint_widget_token("100001", "someone-elses-secret", NOW)
    with pytest.raises(ForgedWidgetToken):
        verify_widget_token(token, SECRET, NOW)


def test_changing_the_family_breaks_the_signature() -> None:
    token = mint_widget_token("100001", SECRET, NOW)
    tampered = token.replace("v1.100001.", "v1.100002.", 1)
    with pytest.raises(ForgedWidgetToken):
        verify_widget_token(tampered, SECRET, NOW)


def test_pushing_the_expiry_breaks_the_signature() -> None:
    token = mint_widget_token("100001", SECRET, NOW)
    parts = token.split(".")
    parts[2] = str(int(parts[2]) + 600)
    with pytest.raises(ForgedWidgetToken):
        verify_widget_token(".".join(parts), SECRET, NOW)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        "v2.100001.1816880400.demoNonce42." + "0" * 64,
        "v1.100001.1816880400.demoNonce42." + "0" * 63,
        "v1.100001.1816880400.demoNonce42." + "A" * 64,  # uppercase hex is not the format
        "v1.100 001.1816880400.demoNonce42." + "0" * 64,
        "v1.100001.-5.demoNonce42." + "0" * 64,
        "v1.100001.1816880400.short." + "0" * 64,
        "v1.100001.1816880400.demo.Nonce42." + "0" * 64,
    ],
)
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(MalformedWidgetToken):
        verify_widget_token(token, SECRET, NOW)


def test_every_refusal_shares_one_base_class() -> None:
    for error in (MalformedWidgetToken, ForgedWidgetToken, ExpiredWidgetToken):
        assert issubclass(error, WidgetTokenError)


def test_minting_refuses_what_the_format_cannot_carry() -> None:
    with pytest.raises(ValueError):
        mint_widget_token("100.001", SECRET, NOW)
    with pytest.raises(ValueError):
        mint_widget_token("100001", "", NOW)
    with pytest.raises(ValueError):
        mint_widget_token("100001", SECRET, NOW, ttl_seconds=86400)
