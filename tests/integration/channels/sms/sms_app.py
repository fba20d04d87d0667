"""A real Rasa 3.6 Sanic app serving the SMS channel, with a recording stand-in for the bot.

Run by the integration tests as a separate process (Rasa's own server, real sockets):

    python sms_app.py --port 5099 --credentials creds.yml --record received.jsonl --trackers t.db

The channel is loaded from the credentials file exactly as `rasa run --credentials` does, so the
key `bot.channels.twilio_sms.SignedTwilioInput` is checked too. Only the conversation is a stand-in
(it records what the channel hands it and answers in a few fixed ways); the channel, Rasa's app,
its output dispatch, its SQL tracker store (a SQLite file several processes may share) and its
lock store are the real ones, and each turn is saved as Rasa's processor saves it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rasa.core.actions.action import create_bot_utterance
from rasa.core.channels.channel import UserMessage
from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore
from rasa.core.run import configure_app, create_http_input_channels
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered

# Long enough to need several parts, with the no-break spaces babel puts in amounts and a link.
LONG_REPLY = (
    "\n\n".join(
        f"Semaine {n} : Parc des Érables, 7-8 ans, service de garde compris, 135,00\u00a0$. "
        "Le chandail est inclus et la fiche santé sera à remplir avant le début du camp."
        for n in range(1, 9)
    )
    + "\n\nPour payer : http://localhost:8000/p/Ab3xY7."
)


WEEK_SHORTCUT = [{"title": "Tout l'été", "payload": "Tout l'été"}]


class RecordingAgent:
    """Stands in for rasa.core.agent.Agent.handle_message: one fixed reply per message, the turn
    (user message, bot messages with their response name, action_listen) saved in the store."""

    def __init__(self, record: Path, trackers: Path, lock_prefix: str | None) -> None:
        self.record = record
        self.tracker_store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(trackers))
        # Several processes of one deployment share Redis locks, as Rasa requires of them.
        self.lock_store: LockStore = (
            RedisLockStore("127.0.0.1", 6379, key_prefix=lock_prefix)
            if lock_prefix
            else InMemoryLockStore()
        )

    async def handle_message(self, message: UserMessage) -> Any:
        async with self.lock_store.lock(message.sender_id):
            tracker = await self.tracker_store.get_or_create_tracker(message.sender_id)
            tracker.update(UserUttered(message.text, input_channel=message.input_channel))
            for reply in await self._reply(message):
                await message.output_channel.send_response(message.sender_id, dict(reply))
                tracker.update(create_bot_utterance(dict(reply)))
            tracker.update(ActionExecuted("action_listen"))
            await self.tracker_store.save(tracker)

    async def _reply(self, message: UserMessage) -> list[dict[str, Any]]:
        with self.record.open("a", encoding="utf-8") as fp:
            fp.write(
                json.dumps(
                    {
                        "text": message.text,
                        "sender_id": message.sender_id,
                        "metadata": message.metadata,
                        "input_channel": message.input_channel,
                    }
                )
                + "\n"
            )
        if message.text == "choix":
            buttons = [
                {"title": "Léa", "payload": '/choisir_enfant{"enfant": "Léa"}'},
                {"title": "Thomas", "payload": '/choisir_enfant{"enfant": "Thomas"}'},
                {"title": "Les deux", "payload": '/choisir_enfant{"enfant": "les deux"}'},
            ]
            return [
                {
                    "text": "Pour quel enfant?",
                    "buttons": buttons,
                    "utter_action": "utter_ask_reg_child",
                }
            ]
        if message.text == "semaines":
            return [
                {"text": "C'est noté."},
                {
                    "text": "Quelles semaines ? Le camp compte 8 semaines.",
                    "buttons": WEEK_SHORTCUT,
                    "utter_action": "utter_ask_reg_weeks",
                },
            ]
        if message.text == "versements":
            buttons = [
                {"title": "1 versement", "payload": "1 versement"},
                {"title": "2 versements", "payload": "2 versements"},
            ]
            return [
                {
                    "text": "Total : 190,00 $. En combien de versements ?",
                    "buttons": buttons,
                    "utter_action": "utter_ask_pay_installments",
                }
            ]
        if message.text == "panne":
            raise RuntimeError("the turn failed, as when the action server is down")
        if message.text == "long":
            return [{"text": LONG_REPLY}]
        return [{"text": f"Reçu : {message.text}"}]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--credentials", required=True)
    parser.add_argument("--record", required=True)
    parser.add_argument("--trackers", required=True)
    parser.add_argument("--lock-prefix", default=None)
    parser.add_argument("--cors", default=None, help="origins the web chat may connect from")
    args = parser.parse_args()
    channels = create_http_input_channels(None, args.credentials)
    app = configure_app(
        channels, cors=args.cors, enable_api=False, port=args.port, use_uvloop=False
    )
    app.ctx.agent = RecordingAgent(Path(args.record), Path(args.trackers), args.lock_prefix)
    app.run(host="127.0.0.1", port=args.port, access_log=False, workers=1)


if __name__ == "__main__":
    main()
