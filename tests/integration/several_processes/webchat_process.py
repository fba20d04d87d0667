"""One Rasa-side web chat process for the push test: the project's socket.io channel
(bot.channels.webchat.WebChatInput, registered the way `rasa run` registers input channels),
the real Redis lock store and a tracker store shared with the other process (SQLite file).
Each user message is recorded in the tracker and answered « reçu »: the policies are not what is
tested here, where a message sent to one process reaches a socket held by the other.

    python webchat_process.py <port> <tracker.db>
"""

from __future__ import annotations

import sys
from typing import Any

from rasa.core.channels.channel import UserMessage, register
from rasa.core.lock_store import RedisLockStore
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered
from sanic import Sanic

from bot.channels.webchat import WebChatInput


class RecordingAgent:
    """What the channel and the push endpoint use of Rasa's Agent."""

    def __init__(self, tracker_db: str) -> None:
        self.tracker_store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=tracker_db)
        self.lock_store = RedisLockStore(host="127.0.0.1", port=6379, db=1)

    async def handle_message(self, message: UserMessage) -> None:
        async with self.lock_store.lock(message.sender_id):
            tracker = await self.tracker_store.get_or_create_tracker(message.sender_id)
            tracker.update(UserUttered(message.text))
            tracker.update(BotUttered("reçu"))
            await self.tracker_store.save(tracker)
        assert message.output_channel is not None
        await message.output_channel.send_text_message(message.sender_id, "reçu")


def main(port: int, tracker_db: str) -> None:
    app: Sanic[Any, Any] = Sanic(f"webchat_{port}")
    app.ctx.agent = RecordingAgent(tracker_db)
    channel = WebChatInput.from_credentials(
        {
            "user_message_evt": "user_uttered",
            "bot_message_evt": "bot_uttered",
            "session_persistence": True,
        }
    )
    register([channel], app, "/webhooks/")
    app.run(host="127.0.0.1", port=port, workers=1, access_log=False, motd=False)


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
