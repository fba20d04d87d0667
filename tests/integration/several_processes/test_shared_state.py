"""Several Rasa processes serving one city share their conversation locks and the Twilio retries
they have seen through the real Redis at 127.0.0.1:6379 (the bot's environment).

Each "process" here is its own lock store or SeenMessages object with its own Redis connection,
built the way `rasa run --endpoints bot/endpoints-several-processes.yml` builds it. With the
default in-memory stores both tests fail: each process would only see its own locks and MessageSids.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from rasa.core.lock_store import LockStore, RedisLockStore
from rasa.core.utils import AvailableEndpoints

from bot.channels.twilio_sms import SeenMessages

ROOT = Path(__file__).resolve().parents[3]
ENDPOINTS = ROOT / "bot" / "endpoints-several-processes.yml"
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


@pytest.fixture
def endpoints(monkeypatch: pytest.MonkeyPatch) -> AvailableEndpoints:
    monkeypatch.setenv("ACTION_ENDPOINT_URL", "http://127.0.0.1:5055/webhook")
    monkeypatch.setenv("REDIS_HOST", REDIS_HOST)
    monkeypatch.setenv("REDIS_PORT", str(REDIS_PORT))
    monkeypatch.setenv("REDIS_LOCK_DB", "1")
    return AvailableEndpoints.read_endpoints(str(ENDPOINTS))


async def test_a_conversation_turn_waits_for_the_same_conversation_on_another_process(
    endpoints: AvailableEndpoints,
) -> None:
    first, second = LockStore.create(endpoints.lock_store), LockStore.create(endpoints.lock_store)
    assert isinstance(first, RedisLockStore) and isinstance(second, RedisLockStore)
    conversation = f"test-{uuid.uuid4().hex}"
    timeline: list[str] = []
    first_holds_the_lock = asyncio.Event()

    async def turn(store: LockStore, name: str, work: float) -> None:
        async with store.lock(conversation, lock_lifetime=10, wait_time_in_seconds=0.02):
            timeline.append(f"{name} starts")
            first_holds_the_lock.set()
            await asyncio.sleep(work)
            timeline.append(f"{name} ends")

    async def second_turn() -> None:
        await first_holds_the_lock.wait()
        await turn(second, "second", 0)

    await asyncio.gather(turn(first, "first", 0.3), second_turn())

    # The parent's second message is handled after the first one, never in the middle of it.
    assert timeline == ["first starts", "first ends", "second starts", "second ends"]
    assert second.get_lock(conversation) is None  # both tickets cleaned up


async def test_a_twilio_retry_landing_on_another_process_is_recognised() -> None:
    url = f"redis://{REDIS_HOST}:{REDIS_PORT}/0"
    process_a, process_b = SeenMessages(redis_url=url), SeenMessages(redis_url=url)
    sid = f"SM{uuid.uuid4().hex}"

    assert await process_a.first_time(sid) is True
    assert await process_b.first_time(sid) is False  # Twilio's retry reached the other process
    assert await process_a.first_time(sid) is False
    assert await process_b.first_time(f"SM{uuid.uuid4().hex}") is True
