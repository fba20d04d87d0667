"""The sealed health-insurance number: what is sealed opens to itself with the same key, and
any altered character, a truncation or another key opens to nothing (never to wrong text)."""

from __future__ import annotations

import base64

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from backend.services.sealing_key import SealBroken, open_sealed, seal

KEY = "k" * 32


@given(st.text(max_size=200))
def test_what_is_sealed_opens_to_itself(plain: str) -> None:
    sealed = seal(plain, KEY)
    assert open_sealed(sealed, KEY) == plain
    assert seal(plain, KEY) != sealed or plain == ""  # a fresh nonce each time


SEALED = seal("TREM20040312|08/2029", KEY)


def _decoded(value: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(value.partition(".")[2])
    except ValueError:
        return None


@given(st.integers(min_value=0, max_value=len(SEALED) - 1), st.sampled_from("AZaz09-_.="))
def test_an_altered_value_opens_to_nothing(at: int, other: str) -> None:
    altered = SEALED[:at] + other + SEALED[at + 1 :]
    # base64 ignores the low bits of its last character: such a change alters no byte
    assume(_decoded(altered) != _decoded(SEALED) or altered[:3] != SEALED[:3])
    with pytest.raises(SealBroken):
        open_sealed(altered, KEY)


def test_a_truncated_value_or_another_key_opens_to_nothing() -> None:
    sealed = seal("TREM20040312|08/2029", KEY)
    for bad, key in ((sealed[:-4], KEY), (sealed, "another-key"), ("v1." + sealed[3:], KEY)):
        with pytest.raises(SealBroken):
            open_sealed(bad, key)
    assert "TREM" not in sealed and "20040312" not in sealed
