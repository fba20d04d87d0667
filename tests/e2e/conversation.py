"""A parent talking to the running stack through Rasa's REST channel, as a test sees it."""

from __future__ import annotations

import json
import re
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.conversation_keys import conversation_id


def channel_conversation(conversation_secret: str, kind: str, value: str) -> str:
    """The id our channels give a conversation ("sms" + phone, "web" + session secret) under
    the stack's key."""
    return conversation_id(kind, value, conversation_secret.encode())


def http_json(
    method: str, url: str, body: Any = None, headers: dict[str, str] | None = None
) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    with urllib.request.urlopen(request, timeout=60) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


# Every conversation of the test session, turn by turn, for the turn-rule check
# (tests/e2e/test_turn_rules.py runs last).
RECORDED: list[Parent] = []


@dataclass
class Parent:
    rasa_url: str
    backend_url: str
    sender: str
    metadata: dict[str, Any] = field(default_factory=dict)
    messages_sent: int = 0
    transcript: list[str] = field(default_factory=list)
    turns: list[tuple[str, list[str]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        RECORDED.append(self)

    def say(self, text: str) -> list[dict[str, Any]]:
        """Sends one message; returns the bot's replies (text, buttons…)."""
        self.messages_sent += 1
        self.transcript.append(f"PARENT: {text}")
        payload: dict[str, Any] = {"sender": self.sender, "message": text}
        if self.metadata:
            payload["metadata"] = self.metadata
        replies = http_json("POST", f"{self.rasa_url}/webhooks/rest/webhook", payload) or []
        for reply in replies:
            self.transcript.append(f"BOT: {reply.get('text', '')} {reply.get('buttons', '')}")
        self.turns.append((text, [str(r.get("text") or "") for r in replies]))
        return list(replies)

    def says_text(self, text: str) -> str:
        return "\n".join(r.get("text", "") for r in self.say(text))

    @property
    def last_question(self) -> str:
        """The bot's last message of its latest turn: where its question is."""
        for line in reversed(self.transcript):
            if line.startswith("BOT: "):
                return line[5:]
            if line.startswith("PARENT: "):
                break
        return ""

    def latest_code(self, recipient_digits: str) -> str:
        """The last one-time code sent to a phone or courriel (demo outbox)."""
        rows = http_json("GET", f"{self.backend_url}/api/dev/outbox?limit=200") or []
        for row in sorted(rows, key=lambda r: r["id"], reverse=True):
            if row.get("kind") == "otp" and recipient_digits in row["recipient"].replace("-", ""):
                match = re.search(r"\b(\d{6})\b", row["body"])
                if match:
                    return match.group(1)
        raise AssertionError(f"no one-time code sent to {recipient_digits}")

    def dump(self) -> str:
        return "\n".join(self.transcript)


Reply = str | Callable[[], str]


def converse(
    parent: Parent,
    opening: str,
    rules: list[tuple[str, Reply]],
    *,
    done: Callable[[str], bool],
    limit: int,
) -> str:
    """Talks until `done(bot text)`: each bot turn is answered by the first rule whose needle
    (lowercase) is in the turn's last message (the question). Fails on a question no rule
    expects, on the same question asked a third time, or past `limit` parent messages."""
    text = parent.says_text(opening)
    seen: Counter[str] = Counter()
    while not done(text):
        if parent.messages_sent >= limit:
            raise AssertionError(f"more than {limit} parent messages:\n{parent.dump()}")
        seen[text] += 1
        if seen[text] >= 3:
            raise AssertionError(f"the same question a third time:\n{parent.dump()}")
        lowered = parent.last_question.lower()
        for needle, reply in rules:
            if needle in lowered:
                text = parent.says_text(reply() if callable(reply) else reply)
                break
        else:
            raise AssertionError(f"unexpected bot turn:\n{parent.dump()}")
    return text
