"""A live socket.io client for the end-to-end tests (bot environment: .venv-bot has
python-socketio), driven line by line, so a test can write, wait for the bot, let something
happen elsewhere, and see what the open chat receives without writing:

    .venv-bot/bin/python tests/e2e/socketio_session.py http://127.0.0.1:5005

Each line on stdin is {"emit": "<event>", "data": ...}; each event received is printed as one
JSON line {"event": "session_confirm" | "bot_uttered", "data": ...}. End of stdin disconnects.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import socketio


def _print(event: str, data: Any) -> None:
    sys.stdout.write(json.dumps({"event": event, "data": data}) + "\n")
    sys.stdout.flush()


async def run(url: str) -> None:
    client = socketio.AsyncClient(reconnection=False)

    @client.on("session_confirm")
    async def on_confirm(data: Any) -> None:
        _print("session_confirm", data)

    @client.on("bot_uttered")
    async def on_bot(data: Any) -> None:
        _print("bot_uttered", data)

    # Long polling, as tests/e2e/socketio_client.py (this aiohttp's websocket is too old).
    await client.connect(url, socketio_path="/socket.io", transports=["polling"])
    _print("connected", None)
    loop = asyncio.get_running_loop()
    try:
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                break
            step = json.loads(line)
            await client.emit(step["emit"], step.get("data"))
    finally:
        await client.disconnect()


if __name__ == "__main__":
    asyncio.run(run(sys.argv[1]))
