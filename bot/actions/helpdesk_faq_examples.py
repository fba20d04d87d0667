"""The child named in the fallback's example: one of the family's own children once it is
identified ("inscrire Thomas au camp de jour"), else the domain's generic first name."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker

from .backend_client import BackendError, backend
from .formatting import fragment
from .session import family_token

log = logging.getLogger(__name__)


async def example_child(tracker: Tracker, domain: dict[str, Any]) -> str:
    token = family_token(tracker)
    if token:
        try:
            children = (await backend.family(token)).get("children") or []
            if children:
                return str(children[0]["first_name"])
        except BackendError as err:
            log.info("family unavailable for the fallback's example: %s", err.code)
    return fragment(domain, "utter_fragment_example_child")
