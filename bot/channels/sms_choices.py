"""Buttons as text-message menus, and what a short reply picks in them.

The rule (docs/CHANNELS.md, "Choices by text message"): a number the parent types is a menu key
only when it cannot be the value the question asks for.
- Every choice carries its own number, all different ("1 versement", "2 versements", "Niveau 3"):
  the choices are listed as they are and the number IS the key ("2" picks "2 versements").
- The question takes numbers (its response is in numeric_questions.yml: weeks, levels, a client
  number...) or some choices hold numbers: the choices are lettered A, B, C and any number
  reaches the bot as typed ("1" answering "Quelles semaines ?" is week 1).
- Otherwise (children, parks, yes/no, sizes): numbered 1, 2, 3.

The menu a reply answers is rebuilt from the conversation's last bot message as the tracker store
holds it (its buttons and the name of its response), never from one process's memory: every Rasa
process sharing the store reads the same menu.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from babel.lists import format_list

from bot.channels.texts import DEFAULT_LOCALE
from bot.channels.texts import text as catalog_text

NUMERIC_QUESTIONS_FILE = Path(__file__).with_name("numeric_questions.yml")
_NUMBER = re.compile(r"\d+")
# The whole reply is one key: "2", " 2. ", "3)", "b", "B."; a longer number is never a key.
_KEY = re.compile(r"\s*(\d{1,2}|[A-Za-z])\s*[.)]?\s*")


@lru_cache(maxsize=1)
def numeric_questions() -> frozenset[str]:
    data = yaml.safe_load(NUMERIC_QUESTIONS_FILE.read_text(encoding="utf-8")) or {}
    return frozenset(str(name) for name in data.get("questions", []))


def takes_numbers(question: str | None) -> bool:
    """True when the response named `question` may be answered by a bare number."""
    return bool(question) and question in numeric_questions()


@dataclass(frozen=True)
class Menu:
    """Choices as a text shows them: `lines` to print, `keys[i]` picks `payloads[i]`."""

    lines: tuple[str, ...]
    keys: tuple[str, ...]
    payloads: tuple[str, ...]
    hint: str

    def pick(self, message: str) -> str | None:
        """The payload the whole message stands for, or None when it is not one of the keys."""
        match = _KEY.fullmatch(message)
        if not match:
            return None
        key = match.group(1).upper()
        return dict(zip(self.keys, self.payloads, strict=True)).get(key)

    def block(self) -> str:
        return "\n".join([*self.lines, self.hint])


def _title(button: dict[str, Any]) -> str:
    return str(button.get("title") or button.get("payload") or "")


def _payload(button: dict[str, Any]) -> str:
    return str(button.get("payload") or button.get("title") or "")


def _own_numbers(titles: Sequence[str]) -> list[str] | None:
    """Each title's one number ("2 versements" -> "2") when every title has exactly one and no
    two share it; else None."""
    numbers = []
    for title in titles:
        found = _NUMBER.findall(title)
        if len(found) != 1:
            return None
        numbers.append(str(int(found[0])))
    return numbers if len(set(numbers)) == len(numbers) else None


def _hint(keys: Sequence[str], free_answer: bool) -> str:
    listed = format_list(list(keys), style="or", locale=DEFAULT_LOCALE)
    key = "sms.choices.hint_or_write" if free_answer else "sms.choices.hint"
    return catalog_text(key, keys=listed)


def menu(buttons: Sequence[dict[str, Any]] | None, question: str | None = None) -> Menu | None:
    """The menu for a reply's buttons; `question` is the name of the response they belong to."""
    if not buttons:
        return None
    titles = [_title(b) for b in buttons]
    payloads = tuple(_payload(b) for b in buttons)
    own = _own_numbers(titles)
    if own is not None:
        return Menu(tuple(titles), tuple(own), payloads, _hint(own, free_answer=False))
    numeric = takes_numbers(question) or any(_NUMBER.search(t) for t in titles)
    if numeric and len(titles) <= len(string.ascii_uppercase):
        letters = tuple(string.ascii_uppercase[: len(titles)])
        lines = tuple(f"{k}. {t}" for k, t in zip(letters, titles, strict=True))
        return Menu(lines, letters, payloads, _hint(letters, free_answer=True))
    numbers = tuple(str(n) for n in range(1, len(titles) + 1))
    lines = tuple(f"{k}. {t}" for k, t in zip(numbers, titles, strict=True))
    return Menu(lines, numbers, payloads, _hint(numbers, free_answer=False))


# --------------------------------------------------------------------------- the shared state


def last_question(events: Sequence[Any]) -> tuple[list[dict[str, Any]], str | None] | None:
    """(buttons, response name) of the conversation's last bot message when it still waits for
    its answer (no user message since), else None. `events` are Rasa events, oldest first."""
    from rasa.shared.core.events import BotUttered, UserUttered

    for event in reversed(events):
        if isinstance(event, UserUttered):
            return None
        if isinstance(event, BotUttered):
            buttons = (event.data or {}).get("buttons") or []
            if not buttons:
                return None
            return list(buttons), (event.metadata or {}).get("utter_action")
    return None


async def resolve(agent: Any, sender_id: str, message: str) -> str:
    """What to hand the bot for `message`: the payload of the menu key it is, else the message.

    Read under the conversation's lock, so that a turn still running (its tracker not saved yet)
    is over before its question is looked up."""
    store = getattr(agent, "tracker_store", None)
    if store is None:
        return message
    locks = getattr(agent, "lock_store", None)
    if locks is not None:
        async with locks.lock(sender_id):
            tracker = await store.retrieve(sender_id)
    else:
        tracker = await store.retrieve(sender_id)
    asked = last_question(list(tracker.events)) if tracker is not None else None
    if asked is None:
        return message
    current = menu(*asked)
    picked = current.pick(message) if current is not None else None
    return picked if picked is not None else message
