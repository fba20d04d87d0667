"""A registration to cancel against a stop (bot/lexicon/cancel.yml): « annuler l'inscription de
mon fils » goes to the cancellation, « annule ça » and a bare « annuler l'inscription » (during
a registration, the one in progress) still stop."""

import pytest

from bot.actions.reading.cancelling import cancels_a_registration


@pytest.mark.parametrize(
    "text",
    [
        "je veux annuler l'inscription de mon fils",
        "Annuler l'inscription de Léa svp",
        "je veux me faire rembourser",
        "on doit annuler une semaine, il est malade",
        "desinscrire ma fille du camp",
        "faut j'annule la semaine 2 de lea",
    ],
)
def test_a_registration_to_cancel(text: str) -> None:
    assert cancels_a_registration(text)


@pytest.mark.parametrize(
    "text", ["annule ça", "annuler l'inscription", "arrête", "annule tout", "laisse faire"]
)
def test_a_stop(text: str) -> None:
    assert not cancels_a_registration(text)
