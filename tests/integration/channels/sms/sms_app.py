"""A real Rasa 3.6 Sanic app serving the SMS channel, with a recording stand-in for the bot.

Run by the integration tests as a separate process (Rasa's own server, real sockets):

    python sms_app.py --port 5099 --credentials creds.yml --record received.jsonl

The channel is loaded from the credentials file exactly as `rasa run --credentials` does, so the
key `bot.channels.twilio_sms.SignedTwilioInput` is checked too. Only the conversation is a stand-in
(it records what the channel hands it and answers in a few fixed ways); the channel, Rasa's app
and its output dispatch are the real ones.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.run import configure_app, create_http_input_channels

# Long enough to need several parts, with the no-break spaces babel puts in amounts and a link.
LONG_REPLY = (
    "\n\n".join(
        f"Semaine {n} : Parc des Érables, 7-8 ans, service de garde compris, 135,00\u00a0$. "
        "Le chandail est inclus et la fiche santé sera à remplir avant le début du camp."
        for n in range(1, 9)
    )
    + "\n\nPour payer : http://localhost:8000/p/Ab3xY7."
)


class RecordingAgent:
    """Stands in for rasa.core.agent.Agent.handle_message."""

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
                        "input_channel": message.input_channel,
                    }
                )
                + "\n"
            )
        out = message.output_channel
        if message.text == "choix":
            buttons = [
                {"title": "Léa", "payload": '/choisir_enfant{"enfant": "Léa"}'},
                {"title": "Thomas", "payload": '/choisir_enfant{"enfant": "Thomas"}'},
                {"title": "Les deux", "payload": '/choisir_enfant{"enfant": "les deux"}'},
            ]
            await out.send_response(
                message.sender_id, {"text": "Pour quel enfant?", "buttons": buttons}
            )
        elif message.text == "panne":
            raise RuntimeError("the turn failed, as when the action server is down")
        elif message.text == "long":
            await out.send_response(message.sender_id, {"text": LONG_REPLY})
        else:
            await out.send_response(message.sender_id, {"text": f"Reçu : {message.text}"})
        return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--credentials", required=True)
    parser.add_argument("--record", required=True)
    args = parser.parse_args()
    channels = create_http_input_channels(None, args.credentials)
    app = configure_app(channels, enable_api=False, port=args.port, use_uvloop=False)
    app.ctx.agent = RecordingAgent(Path(args.record))
    app.run(host="127.0.0.1", port=args.port, access_log=False, workers=1)


if __name__ == "__main__":
    main()
