"""The stop intent is trusted only when the words ask to stop; "that is all" is told apart."""

from __future__ import annotations

import pytest

from bot.actions.reading.stopping import asks_to_stop, says_done


@pytest.mark.parametrize(
    "text",
    [
        "annule ça finalement",
        "attends arrête deux secondes",
        "laisse faire stp",
        "oublie ça, on arrête",
        "j'veux pu continuer",
        "STOP",
        "je veux quitter",
    ],
)
def test_what_asks_to_stop(text: str) -> None:
    assert asks_to_stop(text)


@pytest.mark.parametrize(
    "text",
    ["ca va etre toute", "ça sera tout merci", "c'est tout on paye", "non rien d'autre"],
)
def test_that_is_all_is_no_stop(text: str) -> None:
    assert says_done(text) and not asks_to_stop(text)


@pytest.mark.parametrize(
    "text", ["en fait juste le soccer pour thomas", "semaine 2", "ok pis là", "merci"]
)
def test_ordinary_messages_are_neither(text: str) -> None:
    assert not asks_to_stop(text) and not says_done(text)
