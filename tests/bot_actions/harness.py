"""Drives the custom actions the way Rasa would, without a Rasa server.

A `Chat` keeps the slots, the events and the active form of one conversation; `say` records a
parent's message (with the intent the model would give), `run` executes one custom action with a
rasa_sdk Tracker and a CollectingDispatcher, applies the slots it sets and returns what the
parent reads: each dispatched response rendered from bot/domain.yml with its variables and the
slots, as Rasa's templated generator does. `form_turn` plays a form's loop (validator, then the
question for the first missing slot, or the end of the form).
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import re
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

import bot.actions
from bot.sealing import decrypt_at_rest

ROOT = Path(__file__).resolve().parents[2]
DOMAIN: dict[str, Any] = yaml.safe_load((ROOT / "bot" / "domain.yml").read_text(encoding="utf-8"))
PLACEHOLDER = re.compile(r"{([^\n{}]+?)}")


def _actions() -> dict[str, Action]:
    found: dict[str, Action] = {}
    for module_info in pkgutil.iter_modules(bot.actions.__path__):
        module = importlib.import_module(f"bot.actions.{module_info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if not issubclass(cls, Action) or cls.__module__ != module.__name__:
                continue
            try:
                instance = cls()
                name = instance.name()
            except Exception:  # noqa: BLE001 - abstract bases have no name
                continue
            if name and not name.endswith("_"):
                found[name] = instance
    return found


ACTIONS = _actions()


@dataclass
class Reply:
    """One message as the parent reads it, and how it was made."""

    response: str | None
    text: str
    variables: dict[str, Any]
    buttons: list[dict[str, Any]]

    def __str__(self) -> str:
        return self.text


def render(message: dict[str, Any], slots: dict[str, Any]) -> Reply:
    name = message.get("response")
    variables = {
        k: v
        for k, v in message.items()
        if k
        not in {
            "text",
            "buttons",
            "elements",
            "custom",
            "template",
            "response",
            "image",
            "attachment",
        }
    }
    if name:
        variants = DOMAIN["responses"].get(name)
        assert variants, f"the action dispatched {name}, which is not in bot/domain.yml"
        template = variants[0]["text"]
        values = {**{k: v for k, v in slots.items() if v is not None}, **variables}
        text = PLACEHOLDER.sub(
            lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0), template
        )
        buttons = message.get("buttons") or variants[0].get("buttons") or []
    else:
        text, buttons = str(message.get("text") or ""), message.get("buttons") or []
    leftover = PLACEHOLDER.findall(text)
    assert not leftover, f"{name}: the parent would read unfilled {leftover} in {text!r}"
    return Reply(name, text, variables, buttons)


def initial_slots() -> dict[str, Any]:
    slots = {name: spec.get("initial_value") for name, spec in DOMAIN["slots"].items()}
    slots.update({"requested_slot": None, "session_started_metadata": None})
    return slots


@dataclass
class Chat:
    sender: str
    slots: dict[str, Any] = field(default_factory=initial_slots)
    events: list[dict[str, Any]] = field(default_factory=list)
    latest_message: dict[str, Any] = field(default_factory=dict)
    active_loop: str | None = None
    transcript: list[str] = field(default_factory=list)

    # ------------------------------------------------------------------ one step at a time
    def say(
        self,
        text: str,
        intent: str = "inform",
        confidence: float = 0.95,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self.latest_message = {
            "text": text,
            "intent": {"name": intent, "confidence": confidence},
            "entities": [],
            "metadata": metadata or {},
        }
        self.events.append(
            {
                "event": "user",
                "text": text,
                "parse_data": self.latest_message,
                "metadata": metadata or {},
            }
        )
        self.transcript.append(f"PARENT: {text}")

    def tracker(self) -> Tracker:
        latest_action = next(
            (e["name"] for e in reversed(self.events) if e.get("event") == "action"), None
        )
        return Tracker(
            self.sender,
            dict(self.slots),
            self.latest_message,
            list(self.events),
            False,
            None,
            {"name": self.active_loop} if self.active_loop else {},
            latest_action,
        )

    async def run(self, name: str) -> list[Reply]:
        action = ACTIONS[name]
        dispatcher = CollectingDispatcher()
        events = await action.run(dispatcher, self.tracker(), DOMAIN)
        self.events.append({"event": "action", "name": name})
        for event in events or []:
            if event.get("event") == "slot":
                self.slots[event["name"]] = event["value"]
            self.events.append(event)
        replies = [render(m, self.slots) for m in dispatcher.messages]
        self.transcript += [f"BOT ({r.response}): {r.text}" for r in replies]
        return replies

    # ------------------------------------------------------------------ forms
    async def form_turn(self, form: str) -> list[Reply]:
        """The form's step: validate (activating it if needed), then ask what is missing or end."""
        before = len(self.events)
        replies = await self.run(f"validate_{form}")
        self.active_loop = form
        required = DOMAIN["forms"][form]["required_slots"]
        missing = next((s for s in required if self.slots.get(s) is None), None)
        chosen = [
            e
            for e in self.events[before:]
            if e.get("event") == "slot" and e["name"] == "requested_slot"
        ]
        if chosen:  # the validator named the step (None: it ends or releases the form)
            missing = chosen[-1]["value"]
        self.slots["requested_slot"] = missing
        if missing is None:
            self.active_loop = None
            return replies
        return replies + await self.run(f"action_ask_{missing}")

    async def answer(
        self, text: str, intent: str = "inform", confidence: float = 0.95
    ) -> list[Reply]:
        """The parent answers the active form's question."""
        assert self.active_loop, f"no form is active:\n{self.dump()}"
        self.say(text, intent, confidence)
        return await self.form_turn(self.active_loop)

    def dump(self) -> str:
        return "\n".join(self.transcript)

    @property
    def token(self) -> str:
        """The family token the actions would send, opened from its sealed slot."""
        opened = decrypt_at_rest(self.slots["family_token"], self.sender)
        assert opened, f"no family token in this conversation:\n{self.dump()}"
        return opened


def texts(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


def responses(replies: list[Reply]) -> list[str | None]:
    return [r.response for r in replies]


# ------------------------------------------------------------ the backend, as a test sees it


# Backend URL -> bearer token of a coordinator account (made by conftest with the staff CLI).
STAFF_TOKENS: dict[str, str] = {}


def staff_headers(base_url: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {STAFF_TOKENS[base_url]}"}


def http_json(
    method: str, url: str, body: Any = None, headers: dict[str, str] | None = None
) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    request.add_header("Authorization", "Bearer dev-service-secret")
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    with urllib.request.urlopen(request, timeout=30) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


def cart(base_url: str, token: str) -> dict[str, Any]:
    return http_json("GET", f"{base_url}/api/cart", headers={"X-Family-Token": token})


def outbox(base_url: str) -> list[dict[str, Any]]:
    return http_json("GET", f"{base_url}/api/dev/outbox?limit=500") or []


def latest_code(base_url: str, phone_digits: str) -> str:
    for row in sorted(outbox(base_url), key=lambda r: r["id"], reverse=True):
        if row.get("kind") == "otp" and phone_digits in re.sub(r"\D", "", row["recipient"]):
            match = re.search(r"\b(\d{6})\b", row["body"])
            if match:
                return match.group(1)
    raise AssertionError(f"no one-time code sent to {phone_digits}")
