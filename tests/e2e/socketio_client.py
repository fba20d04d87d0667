"""A scripted socket.io client for the end-to-end tests, in the bot's environment (.venv-bot has
python-socketio and aiohttp; the backend's has neither):

    .venv-bot/bin/python tests/e2e/socketio_client.py '<scenario JSON>'

The scenario is {"url": "http://127.0.0.1:5005", "steps": [...]}; each step emits one event and
waits for what the server answers to it before the next:
- {"emit": "session_request", "data": {...}}: waits for `session_confirm`;
- {"emit": "user_uttered", "data": {...}, "replies": n}: waits for n more `bot_uttered` (0: none);
- {"wait_for": "<text>", "count": n}: emits nothing, waits until n `bot_uttered` have that text.
Prints {"confirmed": [secrets...], "bot": [messages...]} as JSON on stdout; a wait longer than
`timeout` seconds (default 90) ends the script with what it has and "timed_out": true.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import socketio


async def run(scenario: dict[str, Any]) -> dict[str, Any]:
    client = socketio.AsyncClient(reconnection=False)
    confirmed: list[str] = []
    bot: list[Any] = []
    changed = asyncio.Event()

    @client.on("session_confirm")
    async def on_confirm(data: Any) -> None:
        confirmed.append(data)
        changed.set()

    @client.on("bot_uttered")
    async def on_bot(data: Any) -> None:
        bot.append(data)
        changed.set()

    timeout = float(scenario.get("timeout", 90))
    result: dict[str, Any] = {"confirmed": confirmed, "bot": bot, "timed_out": False}
    # Long polling: the websocket transport of this python-engineio needs a newer aiohttp than
    # the bot's; the server side and the conversation are the same.
    await client.connect(scenario["url"], socketio_path="/socket.io", transports=["polling"])
    try:
        for step in scenario["steps"]:
            wanted = step.get("wait_for")
            if wanted is not None:
                kind, seen = "text", int(step.get("count", 1))
            elif step["emit"] == "session_request":
                kind, seen = "confirmed", len(confirmed) + 1
            else:
                kind, seen = "bot", len(bot) + int(step.get("replies", 1))

            def target(kind: str = kind, wanted: Any = wanted) -> int:
                if kind == "text":
                    return sum(1 for m in bot if m.get("text") == wanted)
                return len(confirmed) if kind == "confirmed" else len(bot)

            if "emit" in step:
                await client.emit(step["emit"], step.get("data"))
            try:
                while target() < seen:
                    changed.clear()
                    if target() < seen:
                        await asyncio.wait_for(changed.wait(), timeout)
            # Python 3.10 (the bot's): asyncio's TimeoutError is not yet the builtin one.
            except asyncio.TimeoutError:  # noqa: UP041
                result["timed_out"] = True
                break
    finally:
        await client.disconnect()
    return result


if __name__ == "__main__":
    print(json.dumps(asyncio.run(run(json.loads(sys.argv[1])))))
