"""The web chat's socket.io channel in a real Rasa Sanic app, with a recording stand-in for the bot.

Started by the browser tests with the bot's environment (.venv-bot):

    python socketio_app.py --port 5098 --record received.jsonl

The channel is loaded from credentials the way `rasa run --credentials` does
(bot.channels.webchat.WebChatInput: Rasa's SocketIOInput, Engine.IO 4, session persistence on);
only the conversation is a stand-in: it records what the channel hands it (text, metadata) and
answers in a few fixed ways.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.run import configure_app, create_http_input_channels

CREDENTIALS = """\
bot.channels.webchat.WebChatInput:
  user_message_evt: user_uttered
  bot_message_evt: bot_uttered
  session_persistence: true
"""


class RecordingAgent:
    def __init__(self, record: Path) -> None:
        self.record = record

    async def handle_message(self, message: UserMessage) -> Any:
        with self.record.open("a", encoding="utf-8") as fp:
            fp.write(
                json.dumps(
                    {
                        "text": message.text,
                        "sender_id": message.sender_id,
                        "metadata": message.metadata,
                    }
                )
                + "\n"
            )
        out = message.output_channel
        if message.text == "choix":
            buttons = [
                {"title": "Léa", "payload": '/inform{"enfant": "Léa"}'},
                {"title": "Thomas", "payload": '/inform{"enfant": "Thomas"}'},
            ]
            await out.send_response(
                message.sender_id, {"text": "Pour quel enfant?", "buttons": buttons}
            )
        elif message.text == "lien":
            await out.send_response(
                message.sender_id,
                {"text": "Votre commande est prête. Payez ici : http://localhost:8000/p/Ab3xY7."},
            )
        else:
            await out.send_response(message.sender_id, {"text": f"Reçu : {message.text}"})
        return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--record", required=True)
    args = parser.parse_args()
    credentials = Path(args.record).with_name("credentials.yml")
    credentials.write_text(CREDENTIALS, encoding="utf-8")
    channels = create_http_input_channels(None, str(credentials))
    app = configure_app(channels, cors="*", enable_api=False, port=args.port, use_uvloop=False)
    app.ctx.agent = RecordingAgent(Path(args.record))
    app.run(host="127.0.0.1", port=args.port, access_log=False, workers=1)


if __name__ == "__main__":
    main()
