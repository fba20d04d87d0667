"""Whether a message cancels a registration already made rather than stopping the
conversation (bot/lexicon/cancel.yml): a cancel word and what it cancels."""

from __future__ import annotations

from . import lexicon
from .text import normalize


def cancels_a_registration(text: str) -> bool:
    """ "je veux annuler l'inscription de mon fils", "me faire rembourser une semaine"."""
    norm = normalize(text)
    return bool(
        lexicon.pattern("cancel", "cancel").search(norm)
        and lexicon.pattern("cancel", "target").search(norm)
    )
