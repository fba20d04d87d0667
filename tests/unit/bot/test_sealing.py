"""Sealed identities and at-rest credentials: only the key holder opens them, for one
conversation, within their age."""

from __future__ import annotations

import time

from bot import sealing


def test_a_sealed_identity_opens_only_in_its_own_conversation() -> None:
    token = sealing.seal({"phone": "+14185550101"}, "sms_a")
    assert sealing.unseal(token, "sms_a")["phone"] == "+14185550101"
    assert sealing.unseal(token, "sms_b") is None
    assert "4185550101" not in token


def test_a_forged_or_altered_seal_is_refused() -> None:
    token = sealing.seal({"phone": "+14185550101"}, "sms_a")
    altered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    assert sealing.unseal(altered, "sms_a") is None
    assert sealing.unseal('{"phone": "+14185550101"}', "sms_a") is None
    assert sealing.unseal(None, "sms_a") is None


def test_an_old_seal_is_refused() -> None:
    then = time.time() - sealing.MAX_AGE_SECONDS - 1
    assert sealing.unseal(sealing.seal({"x": 1}, "c", now=then), "c") is None


def test_another_key_cannot_open_a_seal(monkeypatch) -> None:
    token = sealing.seal({"x": 1}, "c")
    monkeypatch.setenv("CONVERSATION_SECRET", "another-key")
    assert sealing.unseal(token, "c") is None


def test_conversation_ids_do_not_reveal_the_phone() -> None:
    first = sealing.conversation_id("sms", "+14185550101")
    assert first == sealing.conversation_id("sms", "+14185550101")
    assert first != sealing.conversation_id("sms", "+14185550102")
    assert first.startswith("sms_") and "4185550101" not in first


def test_a_credential_at_rest_is_opaque_and_bound_to_its_conversation() -> None:
    stored = sealing.encrypt_at_rest("family-token-123", "web_a")
    assert "family-token-123" not in stored
    assert sealing.decrypt_at_rest(stored, "web_a") == "family-token-123"
    assert sealing.decrypt_at_rest(stored, "web_b") is None
    assert sealing.decrypt_at_rest("family-token-123", "web_a") is None
