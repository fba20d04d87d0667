"""Two Rasa processes serve the web chat behind one address: a parent's socket is held by one,
and the backend's push (the waiting room's « C'est votre tour! ») may land on the other. With
`SOCKETIO_REDIS_URL` both share a socket.io message queue on the real Redis at 127.0.0.1:6379,
and the message reaches the parent's open chat, recorded in the conversation as the bot's own.
Without the shared queue the push would only reach sockets of the process it landed on.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import socketio
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain

from bot.conversation_keys import conversation_id

ROOT = Path(__file__).resolve().parents[3]
SERVER = Path(__file__).with_name("webchat_process.py")
SECRET = "push-test-service-secret"
CONVERSATIONS = "push-test-conversation-secret"
PUSHED = "C'est votre tour! Vous pouvez maintenant inscrire vos enfants."



def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_up(url: str, proc: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"web chat process exited ({proc.returncode})")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    raise RuntimeError(f"web chat process not up at {url}")


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Path]]:
    tracker_db = tmp_path_factory.mktemp("push") / "trackers.db"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SERVICE_SECRET": SECRET,
        "CONVERSATION_SECRET": CONVERSATIONS,
        "SOCKETIO_REDIS_URL": "redis://127.0.0.1:6379/2",
        # a channel of its own: parallel runs never see each other's messages
        "SOCKETIO_REDIS_CHANNEL": f"push-test-{uuid.uuid4().hex}",
    }
    procs, urls = [], []
    for _ in range(2):
        port = _free_port()
        proc = subprocess.Popen(
            [sys.executable, str(SERVER), str(port), str(tracker_db)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        procs.append(proc)
        urls.append(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 120
        for url, proc in zip(urls, procs, strict=True):
            _wait_up(url + "/webhooks/socketio/", proc, deadline)
        yield urls[0], urls[1], tracker_db
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)


def _push(url: str, conversation: str, text: str, secret: str = SECRET) -> int:
    request = urllib.request.Request(
        url + "/webhooks/socketio/push",
        data=json.dumps({"conversation": conversation, "text": text}).encode(),
        headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


async def _open_chat(url: str) -> tuple[socketio.AsyncClient, str, list[str], asyncio.Event]:
    client = socketio.AsyncClient(reconnection=False)
    confirmed: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    said: list[str] = []
    arrived = asyncio.Event()

    @client.on("session_confirm")
    async def on_confirm(secret: str) -> None:
        if not confirmed.done():
            confirmed.set_result(secret)

    @client.on("bot_uttered")
    async def on_bot(data: Any) -> None:
        said.append(str((data or {}).get("text")))
        arrived.set()

    await client.connect(url, socketio_path="/socket.io", transports=["polling"])
    await client.emit("session_request", {})
    secret = await asyncio.wait_for(confirmed, 30)
    return client, conversation_id("web", secret, CONVERSATIONS.encode()), said, arrived


async def _until(said: list[str], arrived: asyncio.Event, text: str) -> None:
    while text not in said:
        arrived.clear()
        await asyncio.wait_for(arrived.wait(), 30)


async def test_a_push_landing_on_the_other_process_reaches_the_open_chat(
    two_processes: tuple[str, str, Path],
) -> None:
    holder, other, tracker_db = two_processes
    client, conversation, said, arrived = await _open_chat(holder)
    try:
        await client.emit("user_uttered", {"message": "bonjour"})
        await _until(said, arrived, "reçu")

        status = await asyncio.to_thread(_push, other, conversation, PUSHED)
        assert status == 200
        await _until(said, arrived, PUSHED)
    finally:
        await client.disconnect()

    # The parent read it once, and the conversation holds it as the bot's own message.
    assert said.count(PUSHED) == 1
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tracker_db))
    tracker = await store.retrieve(conversation)
    assert tracker is not None
    bot_texts = [e.text for e in tracker.events if e.type_name == "bot"]
    assert bot_texts[-1] == PUSHED
    assert [e.text for e in tracker.events if e.type_name == "user"] == ["bonjour"]


async def test_a_push_without_the_service_secret_or_to_no_conversation_is_refused(
    two_processes: tuple[str, str, Path],
) -> None:
    holder, other, _ = two_processes
    client, conversation, said, arrived = await _open_chat(holder)
    try:
        await client.emit("user_uttered", {"message": "bonjour"})
        await _until(said, arrived, "reçu")
        assert await asyncio.to_thread(_push, other, conversation, PUSHED, "wrong") == 401
        unknown = "web_" + uuid.uuid4().hex
        assert await asyncio.to_thread(_push, other, unknown, PUSHED) == 404
        assert await asyncio.to_thread(_push, other, "sms_" + uuid.uuid4().hex, PUSHED) == 422
        # a message that does arrive shows nothing refused was delivered before it
        assert await asyncio.to_thread(_push, holder, conversation, "ensuite") == 200
        await _until(said, arrived, "ensuite")
    finally:
        await client.disconnect()
    assert PUSHED not in said
