"""What a message means at the question asked once lines are in the cart: « inscrire un
autre enfant, ajouter une activité, ou passer la commande ? »."""

from __future__ import annotations

import re
from functools import cache

from . import lexicon
from .text import normalize


def _bare(text: str) -> str:
    return "".join(re.findall(r"[a-z0-9]+", normalize(text)))


@cache
def _done() -> frozenset[str]:
    return frozenset(_bare(str(p)) for p in lexicon.entry("next_step", "done"))


def says_done(text: str) -> bool:
    """The whole message says nothing else is coming ("ça va être toute", "c'est tout pour
    moi, merci"): the order comes next."""
    folded = " ".join(re.findall(r"[a-z0-9]+", normalize(text)))
    if not folded:
        return False
    for key in ("polite", "around", "thanks"):
        folded = lexicon.pattern("continue", key).sub(" ", folded)
    return bool(_bare(folded)) and _bare(folded) in _done()
