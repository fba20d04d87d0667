"""What the log masking keeps and what it hides, record by record."""

from __future__ import annotations

import logging
import secrets

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.log_privacy import MASK, install, mask


@pytest.mark.parametrize(
    ("line", "hidden"),
    [
        ("GET http://127.0.0.1:8000/p/sC5yVeUro38 200", "sC5yVeUro38"),
        ("POST /p/AbC-12_xyZ9?x=1", "AbC-12_xyZ9"),
        ("Votre code de vérification : 482913.", "482913"),
        ("code 482 913 envoyé", "482 913"),
        ("family token Zx3kq9PLm2ab0Qw8Rt5Yu7Ii1Oo4Pp6L", "Zx3kq9PLm2ab0Qw8Rt5Yu7Ii1Oo4Pp6L"),
        ("to +14185550101", "4185550101"),
        ("appel au (418) 555-0101", "555-0101"),
    ],
)
def test_secrets_are_masked(line: str, hidden: str) -> None:
    assert hidden not in mask(line)


@pytest.mark.parametrize(
    "line",
    [
        "outbox: sending notification 12 failed",
        "checkout paid 9500 cents for installment 1 of order 3",
        "2027-04-20 19:00:01 background jobs failed",
        "identity_challenge_phone_key ix_notification_created_at",
        "total 95.00 $",
    ],
)
def test_ordinary_lines_are_kept(line: str) -> None:
    assert mask(line) == line


def test_records_of_any_logger_are_masked_even_their_extras_and_tracebacks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    install()
    late = logging.getLogger("backend.created_after_install")
    with caplog.at_level(logging.DEBUG):
        try:
            raise RuntimeError("refused: Votre code est 482913")
        except RuntimeError:
            late.exception("send to %s failed", "+14185550101")
        logging.getLogger("sanic.access").info(
            "", extra={"request": "GET http://x/p/sC5yVeUro38", "allergies": "arachides"}
        )
    text = caplog.text + " ".join(
        str(getattr(r, name, "")) for r in caplog.records for name in ("request", "allergies")
    )
    for secret in ("482913", "4185550101", "sC5yVeUro38", "arachides"):
        assert secret not in text
    assert MASK in text and "RuntimeError" in text  # the traceback is still there, masked


_URLSAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# Any text without digits of its own (a digit glued to the code makes another number).
_AROUND = st.text(st.characters(blacklist_categories=("Cs", "Nd")), max_size=40)


@settings(max_examples=300, derandomize=True)
@given(before=_AROUND, code=st.from_regex(r"\A\d{6}\Z"), after=_AROUND)
def test_no_code_survives_whatever_surrounds_it(before: str, code: str, after: str) -> None:
    assert code not in mask(f"{before} {code} {after}")


@settings(max_examples=300, derandomize=True)
@given(
    token=st.text(st.sampled_from(_URLSAFE), min_size=1, max_size=64),
    after=st.sampled_from(["", " 200", "?utm=1", "/", '"', " HTTP/1.1"]),
)
def test_no_payment_link_token_survives(token: str, after: str) -> None:
    masked = mask(f"GET https://loisirs.example/p/{token}{after}")
    assert masked == f"GET https://loisirs.example/p/{MASK}{after}"


def test_no_family_token_survives() -> None:
    tokens = [secrets.token_urlsafe(24) for _ in range(5000)]  # as auth.issue_family_token
    leaked = [t for t in tokens if t in mask(f"token={t} ok")]
    assert leaked == []
