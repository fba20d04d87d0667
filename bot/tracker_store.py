"""The conversations' store: Rasa's SQL tracker store, minus what must not be kept.

When Rasa saves a turn (after it, so the actions saw the real words), the text of a parent's
message is replaced by `[masqué]` (in `text` and in the NLU result's text and entities) when
the message answered a sensitive question (the one-time code: `requested_slot` was `id_code`
when it arrived; the list is `sensitive_slots` in bot/privacy/sensitive.yml), when it is
code-shaped once a code was sent, or when it mentions health, medication, an allergy, a
diagnosis or a numéro d'assurance sociale. The intent is kept: the dialogue policies read it on
the next turns. A fiche santé link the bot gave (`/sante/<token>`: it opens a child's health
record) keeps its path, never its token.

Where the conversations live (docs/DEPLOYMENT.md): PostgreSQL when TRACKER_DB_HOST is set
(TRACKER_DB_PORT, TRACKER_DB_NAME, TRACKER_DB_USER, TRACKER_DB_PASSWORD, and
TRACKER_DB_LOGIN_DB to create the database on first start); in demo mode without
it, an SQLite file (TRACKER_SQLITE_PATH, var/rasa-tracker.db by default), unless the endpoints
say `dialect: postgresql` (several processes must share one server). Outside demo mode a store
with no database is refused rather than kept in one process's memory, where it would be lost.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    AllSlotsReset,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot.privacy.sensitive import MASK, sensitive_list

log = logging.getLogger(__name__)

DEFAULT_SQLITE_PATH = "var/rasa-tracker.db"


def _code_shaped(text: str | None) -> bool:
    """Six digits and no other ("482913", "le code : 482 913")."""
    return len(re.sub(r"\D", "", text or "")) == 6


def masked_user_events(events: Iterable[Event]) -> set[int]:
    """Positions (in `events`) of the parent's messages the store must not keep.

    Besides answers to a sensitive question, a code-shaped message is masked once a code was
    sent in the session: a parent may type it again after the question is over (after a lock,
    or with "renvoyer le code"), and a client number masked on the way costs nothing.
    """
    sensitive = sensitive_list()
    requested: Any = None
    code_sent = False
    masked: set[int] = set()
    for index, event in enumerate(events):
        if isinstance(event, (SessionStarted, Restarted, AllSlotsReset)):
            requested, code_sent = None, False
        elif isinstance(event, SlotSet) and event.key == "requested_slot":
            requested = event.value
        elif isinstance(event, SlotSet) and event.key == "challenge_id" and event.value:
            code_sent = True
        elif isinstance(event, UserUttered) and (
            requested in sensitive.slots
            or (code_sent and _code_shaped(event.text))
            or sensitive.mentions(event.text)
        ):
            masked.add(index)
    return masked


_HEALTH_LINK = re.compile(r"(/sante/)[^\s/?#\"'<>]+")


def without_health_links(data: dict[str, Any]) -> dict[str, Any]:
    """A bot event's serialised form with each fiche santé link's token masked."""
    text = data.get("text")
    if not isinstance(text, str) or "/sante/" not in text:
        return data
    return {**data, "text": _HEALTH_LINK.sub(lambda m: m.group(1) + MASK, text)}


def redact(data: dict[str, Any]) -> dict[str, Any]:
    """A user event's serialised form without the parent's words."""
    parse_data = dict(data.get("parse_data") or {})
    parse_data.update({"text": MASK, "entities": []})
    parse_data.pop("response_selector", None)  # may quote the message
    return {**data, "text": MASK, "parse_data": parse_data}


def _connection_from_env(server_only: bool) -> dict[str, Any]:
    host = os.environ.get("TRACKER_DB_HOST")
    if host:
        return {
            "dialect": "postgresql",
            "host": host,
            "port": os.environ.get("TRACKER_DB_PORT", "5432"),
            "db": os.environ.get("TRACKER_DB_NAME", "rasa"),
            "username": os.environ.get("TRACKER_DB_USER"),
            "password": os.environ.get("TRACKER_DB_PASSWORD"),
            # a database the login may connect to first, to create TRACKER_DB_NAME when missing
            "login_db": os.environ.get("TRACKER_DB_LOGIN_DB") or None,
        }
    if os.environ.get("DEMO_MODE") == "1" and not server_only:
        path = Path(os.environ.get("TRACKER_SQLITE_PATH", DEFAULT_SQLITE_PATH))
        path.parent.mkdir(parents=True, exist_ok=True)
        return {"dialect": "sqlite", "db": str(path)}
    raise RuntimeError(
        "the tracker store needs a database: set TRACKER_DB_HOST (docs/DEPLOYMENT.md)"
    )


class RedactingTrackerStore(SQLTrackerStore):
    """`type: bot.tracker_store.RedactingTrackerStore` in bot/endpoints*.yml."""

    def __init__(
        self,
        domain: Domain | None = None,
        host: str | None = None,
        event_broker: EventBroker | None = None,
        **kwargs: Any,
    ) -> None:
        if host is None:
            # `dialect: postgresql` alone (several processes) means: that server, never a file
            found = _connection_from_env(server_only=kwargs.get("dialect") == "postgresql")
            host = found.pop("host", None)
            kwargs = {**found, **{k: v for k, v in kwargs.items() if k != "dialect"}}
        super().__init__(domain=domain, host=host, event_broker=event_broker, **kwargs)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Rasa's `SQLTrackerStore.save`, with the parent's sensitive messages masked."""
        await self.stream_events(tracker)
        masked = masked_user_events(tracker.events)
        with self.session_scope() as session:
            stored = self._event_query(
                session, tracker.sender_id, fetch_events_from_all_sessions=False
            ).count()
            for index, event in enumerate(list(tracker.events)):
                if index < stored:
                    continue
                data = event.as_dict()
                if index in masked:
                    data = redact(data)
                elif event.type_name == "bot":
                    data = without_health_links(data)
                session.add(
                    self.SQLEvent(
                        sender_id=tracker.sender_id,
                        type_name=event.type_name,
                        timestamp=data.get("timestamp"),
                        intent_name=data.get("parse_data", {}).get("intent", {}).get(
                            INTENT_NAME_KEY
                        ),
                        action_name=data.get("name"),
                        data=json.dumps(data),
                    )
                )
            session.commit()
