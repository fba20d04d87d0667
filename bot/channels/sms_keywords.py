"""The whole-message SMS keywords (ARRET/STOP, AIDE/HELP, REPRENDRE/START) and how to spot one."""

from __future__ import annotations

import unicodedata

# Whole-message keywords, compared without case, accents or final punctuation. The opt-out list
# also holds Twilio's own default opt-out words: Twilio blocks the number on its side for those,
# so the backend must know too.
OPT_OUT_WORDS = frozenset(
    {"arret", "stop", "desabonner", "stopall", "unsubscribe", "cancel", "end", "quit"}
)
HELP_WORDS = frozenset({"aide", "help", "info"})
OPT_IN_WORDS = frozenset({"reprendre", "start", "unstop"})


def keyword_of(body: str) -> str | None:
    """ "stop", "help" or "start" when the whole message is one of the keywords, else None."""
    folded = unicodedata.normalize("NFD", body.strip().casefold())
    word = "".join(c for c in folded if not unicodedata.combining(c)).strip(" .!?")
    if word in OPT_OUT_WORDS:
        return "stop"
    if word in HELP_WORDS:
        return "help"
    if word in OPT_IN_WORDS:
        return "start"
    return None
