"""Whether a message really asks to stop, or says the parent is done (bot/lexicon/stop.yml).

The model files "ça va être toute" with "annule tout": the stop is taken only when the words
ask for it.
"""

from __future__ import annotations

from . import lexicon
from .text import normalize


def asks_to_stop(text: str) -> bool:
    """ "arrête", "annule ça", "laisse faire", "stop" anywhere in the message."""
    return bool(lexicon.pattern("stop", "stop").search(normalize(text)))


def says_done(text: str) -> bool:
    """ "ça va être tout", "c'est tout", "rien d'autre": nothing more to add."""
    return bool(lexicon.pattern("stop", "done").search(normalize(text)))
