"""The conversations as the real PostgreSQL tracker store keeps them: a fresh database, one
conversation with a one-time code, a health mention and the family token, saved through
bot.tracker_store.RedactingTrackerStore (built from bot/endpoints-several-processes.yml, as
`rasa run` builds it), then the `events` table read with plain SQL."""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import TrackerStore
from rasa.core.utils import AvailableEndpoints
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.privacy.sensitive import MASK
from bot.sealing import decrypt_at_rest, encrypt_at_rest
from bot.tracker_store import RedactingTrackerStore

ROOT = Path(__file__).resolve().parents[3]
PG = "postgresql://postgres@127.0.0.1:5432"
CODE = "482913"
LATE_CODE = "557 120"
TOKEN = "Zq3v9kPp-family-token-in-clear_x"
HEALTH = "Léa est allergique aux arachides, elle a son ÉpiPen"
SENDER = "web_" + "a" * 32
HEALTH_TOKEN = "h1.12.3.1845000000." + "ab12" * 10
HEALTH_LINK = f"http://localhost:8000/sante/{HEALTH_TOKEN}"


@pytest.fixture
def database() -> Iterator[str]:
    name = f"t_tracker_{uuid.uuid4().hex[:12]}"
    try:
        admin = sa.create_engine(f"{PG}/test", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001
        if os.environ.get("REQUIRE_POSTGRES") or os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL unavailable: {error}")
    try:
        yield name
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _domain() -> Domain:
    return Domain.load(str(ROOT / "bot" / "domain.yml"))


def _store(database: str, monkeypatch: pytest.MonkeyPatch) -> TrackerStore:
    for key, value in {
        "ACTION_ENDPOINT_URL": "http://127.0.0.1:5055/webhook",
        "REDIS_HOST": "127.0.0.1",
        "REDIS_PORT": "6379",
        "REDIS_LOCK_DB": "1",
        "TRACKER_DB_HOST": "127.0.0.1",
        "TRACKER_DB_PORT": "5432",
        "TRACKER_DB_NAME": database,
        "TRACKER_DB_USER": "postgres",
        "TRACKER_DB_PASSWORD": "",
    }.items():
        monkeypatch.setenv(key, value)
    endpoints = AvailableEndpoints.read_endpoints(
        str(ROOT / "bot" / "endpoints-several-processes.yml")
    )
    store = TrackerStore.create(endpoints.tracker_store, _domain())
    assert isinstance(store, RedactingTrackerStore)
    return store


def _user(text: str, intent: str = "inform") -> UserUttered:
    return UserUttered(
        text,
        intent={"name": intent, "confidence": 0.9},
        entities=[{"entity": "number", "value": text, "start": 0, "end": len(text)}],
        parse_data={"intent": {"name": intent, "confidence": 0.9}, "text": text},
    )


def _conversation(domain: Domain) -> DialogueStateTracker:
    tracker = DialogueStateTracker(SENDER, domain.slots)
    for event in [
        ActionExecuted("action_listen"),
        _user("je veux inscrire Léa au camp de jour", "register"),
        SlotSet("challenge_id", "c-1"),
        SlotSet("requested_slot", "id_code"),
        BotUttered("Si ces renseignements correspondent à un dossier, … Quel est ce code ?"),
        ActionExecuted("action_listen"),
        _user(f"le code c'est {CODE[:3]} {CODE[3:]}"),
        SlotSet("id_code", "ok"),
        SlotSet("family_token", encrypt_at_rest(TOKEN, SENDER)),
        SlotSet("requested_slot", None),
        ActionExecuted("action_listen"),
        _user(HEALTH),
        BotUttered(f"Voici le lien personnel de Léa :\n• Léa : {HEALTH_LINK}"),
        ActionExecuted("action_listen"),
        _user("semaines 2 à 4 avec service de garde"),
    ]:
        tracker.update(event)
    return tracker


async def test_no_code_no_health_word_no_token_in_the_events_table(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _store(database, monkeypatch)
    domain = _domain()
    tracker = _conversation(domain)
    await store.save(tracker)
    # a later turn is saved too, and the earlier rows are not written twice; a code typed
    # again once the question is over is masked all the same
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(_user("elle prend du Ritalin le matin"))
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(_user(LATE_CODE))
    await store.save(tracker)

    engine = sa.create_engine(f"{PG}/{database}")
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT type_name, data FROM events ORDER BY id")).all()
    engine.dispose()
    # every column as text, JSON escapes undone, lowercase
    dump = "\n".join(
        f"{kind} " + json.dumps(json.loads(data), ensure_ascii=False) for kind, data in rows
    ).lower()
    assert len(rows) == len(tracker.events)
    secrets = (CODE, CODE[:3] + " " + CODE[3:], LATE_CODE, TOKEN)
    for secret in (*secrets, HEALTH_TOKEN, "allergique", "arachide", "épipen", "ritalin"):
        assert secret.lower() not in dump, secret
    assert f"/sante/{MASK}".lower() in dump  # the bot's sentence is kept, its link's token not
    user_texts = [json.loads(data)["text"] for kind, data in rows if kind == "user"]
    assert user_texts == [
        "je veux inscrire Léa au camp de jour",
        MASK,
        MASK,
        "semaines 2 à 4 avec service de garde",
        MASK,
        MASK,
    ]

    # read back by the store, the conversation goes on: intents kept, the token still opens
    again = await store.retrieve(SENDER)
    assert again is not None
    assert [e.intent_name for e in again.events if isinstance(e, UserUttered)] == [
        "register", "inform", "inform", "inform", "inform", "inform"
    ]
    assert decrypt_at_rest(again.get_slot("family_token"), SENDER) == TOKEN
    assert again.get_slot("id_code") == "ok"


async def test_demo_mode_keeps_conversations_in_an_sqlite_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TRACKER_DB_HOST", raising=False)
    monkeypatch.setenv("DEMO_MODE", "1")
    monkeypatch.setenv("TRACKER_SQLITE_PATH", str(tmp_path / "var" / "tracker.db"))
    endpoints = AvailableEndpoints.read_endpoints(str(ROOT / "bot" / "endpoints.yml"))
    store = TrackerStore.create(endpoints.tracker_store, _domain())
    assert isinstance(store, RedactingTrackerStore)
    await store.save(_conversation(_domain()))

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'var' / 'tracker.db'}")
    with engine.connect() as conn:
        dump = "\n".join(
            json.dumps(json.loads(data), ensure_ascii=False)
            for data in conn.execute(sa.text("SELECT data FROM events")).scalars()
        )
    engine.dispose()
    assert "semaines 2 à 4 avec service de garde" in dump  # ordinary words are kept
    # the code was typed in two halves: neither half may survive as a word of its own
    # (a timestamp may hold the same digits by chance, so digits inside numbers do not count)
    assert not re.search(rf"(?<![\d.]){CODE[3:]}(?![\d.])", dump)
    assert "allergique" not in dump and TOKEN not in dump


def test_outside_demo_mode_a_store_without_a_database_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TRACKER_DB_HOST", raising=False)
    monkeypatch.delenv("DEMO_MODE", raising=False)
    with pytest.raises(RuntimeError, match="TRACKER_DB_HOST"):
        RedactingTrackerStore(_domain())
    monkeypatch.setenv("DEMO_MODE", "1")
    with pytest.raises(RuntimeError, match="TRACKER_DB_HOST"):
        RedactingTrackerStore(_domain(), dialect="postgresql")
