"""The turn rules every conversation keeps, checked from outside.

(a) The last message of each bot turn is the question of the step the registration is at, or a
    closing (which responses count is data: tests/e2e/turn_rules.yml).
(b) No whole turn repeats right after a miss: the same bot turn twice in a row means the bot did
    not move (the repair ladder words its second and third asks differently).

A REST message is recognized by matching it against the domain's response templates, each
`{placeholder}` read as "any text". Test stories are checked on their action names: after each
user turn, the last action before the bot listens must be a form that stays active, an ask
action or response, a closing, or a custom action known to end on a question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
RULES_FILE = Path(__file__).with_name("turn_rules.yml")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def load_domain(root: Path = ROOT) -> dict[str, Any]:
    """bot/domain.yml, or every file of bot/domain/ merged (Rasa accepts both)."""
    single = root / "bot" / "domain.yml"
    files = [single] if single.exists() else sorted((root / "bot" / "domain").rglob("*.yml"))
    merged: dict[str, Any] = {"responses": {}, "forms": {}, "actions": []}
    for path in files:
        part = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        merged["responses"].update(part.get("responses") or {})
        merged["forms"].update(part.get("forms") or {})
        merged["actions"] += part.get("actions") or []
    return merged


def template_regex(text: str) -> re.Pattern[str]:
    pieces = PLACEHOLDER.split(text.strip())
    # split() alternates literal text and placeholder names
    pattern = "".join(re.escape(p) if i % 2 == 0 else ".+?" for i, p in enumerate(pieces))
    return re.compile(pattern, re.DOTALL)


@dataclass
class Rules:
    domain: dict[str, Any]
    config: dict[str, Any]

    @classmethod
    def load(cls, root: Path = ROOT) -> Rules:
        config = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))
        return cls(load_domain(root), config)

    @cached_property
    def templates(self) -> list[tuple[int, str, re.Pattern[str]]]:
        """(literal length, response name, regex), most specific first; fragments are parts of
        messages, never a message."""
        out = []
        for name, variants in self.domain["responses"].items():
            if name.startswith("utter_fragment_"):
                continue
            for variant in variants or []:
                text = str(variant.get("text") or "")
                if text:
                    literal = len(PLACEHOLDER.sub("", text))
                    out.append((literal, name, template_regex(text)))
        # the channels' own sentences (locales/fr_CA/LC_MESSAGES/channels.po), e.g. the answer
        # given when the action server produced nothing
        for name, text in (self.config.get("channel_messages") or {}).items():
            out.append((len(text), name, template_regex(text)))
        return sorted(out, key=lambda t: -t[0])

    @cached_property
    def slots(self) -> list[str]:
        """Form slots, and "next_step" (what the parent does once a registration is in)."""
        names = [s for form in self.domain["forms"].values() for s in form["required_slots"]]
        return sorted([*names, "next_step"], key=len, reverse=True)

    def response_of(self, message: str) -> str | None:
        """The domain response a bot message was made from, if any."""
        text = message.strip()
        for _, name, regex in self.templates:
            if regex.fullmatch(text):
                return name
        return None

    def asked(self, name: str | None) -> str | None:
        """What a step question asks, as its name says: "reg_options_garde" for
        utter_ask_reg_options_garde; None for other responses."""
        if name is None:
            return None
        if name in self.config["step_of"]:
            return str(self.config["step_of"][name])
        for prefix in self.config["step_prefixes"]:
            if name.startswith(prefix):
                return name[len(prefix) :]
        return None

    def step_of(self, name: str | None) -> str | None:
        """The form slot (or "next_step") a response asks for; None for other responses."""
        asked = self.asked(name)
        if asked is None:
            return None
        for slot in self.slots:
            if asked == slot or asked.startswith(slot + "_"):
                return slot
        return asked

    def kind(self, name: str | None) -> str:
        """The response's kind: "step", "open", "closing" or "other"."""
        if name is None:
            return "other"
        if name in self.config["closings"]:
            return "closing"
        if name in self.config["step_questions"] or any(
            name.startswith(p) for p in self.config["step_prefixes"]
        ):
            return "step"
        if name in self.config["open_questions"] or name.startswith(
            tuple(self.config["answer_prefixes"])
        ):
            return "open"
        return "other"


# --------------------------------------------------------------------------- REST conversations


def turn_violations(rules: Rules, turns: list[tuple[str, list[str]]]) -> list[str]:
    """Every break of rules (a) and (b) in one conversation: turns are (parent text, bot texts)."""
    problems: list[str] = []
    waiting_on_step = False
    previous: tuple[str, list[str]] | None = None
    for index, (said, replies) in enumerate(turns, start=1):
        texts = [t for t in replies if t.strip()]
        where = f"turn {index} (parent: {said!r})"
        if not texts:
            problems.append(f"{where}: the bot said nothing")
            waiting_on_step = False
            previous = (said, texts)
            continue
        name = rules.response_of(texts[-1])
        kind = rules.kind(name)
        if kind == "other":
            shown = texts[-1][:120].replace("\n", " ")
            problems.append(f"{where}: ends on {name or 'an unknown message'}: {shown!r}")
        elif kind == "open" and waiting_on_step:
            problems.append(f"{where}: the pending step's question was dropped for {name}")
        if previous is not None and texts == previous[1] and kind != "closing":
            problems.append(f"{where}: the whole previous turn again ({name})")
        waiting_on_step = kind == "step" and rules.step_of(name) != "next_step"
        previous = (said, texts)
    return problems


# --------------------------------------------------------------------------- test stories


def story_violations(rules: Rules, story: dict[str, Any]) -> list[str]:
    """Turns of a test story that end on an action that asks nothing."""
    problems: list[str] = []
    config = rules.config
    forms = set(rules.domain["forms"])
    active: str | None = None
    last: tuple[str, str | None] | None = None  # (action, loop active after it)
    user_text = ""

    def close_turn() -> None:
        if last is None:
            return
        action, loop = last
        ok = (
            (action in forms and loop == action)
            or action.startswith("action_ask_")
            or rules.kind(action) in {"step", "closing"}
            or action in config["asking_actions"]
            or (action in config["asking_outside_forms"] and loop is None)
            or (rules.kind(action) == "open" and loop is None)
        )
        if not ok:
            problems.append(f"after {user_text!r}: the turn ends on {action}")

    for step in story.get("steps", []):
        if "user" in step or "intent" in step and "action" not in step:
            close_turn()
            last = None
            user_text = str(step.get("user") or step.get("intent") or "").strip()
        elif "action" in step:
            action = str(step["action"])
            if action == "action_listen":
                close_turn()
                last = None
                continue
            if action in forms and active is None:
                active = action
            last = (action, active)
        elif "active_loop" in step:
            active = step["active_loop"]
            if last is not None:
                last = (last[0], active)
    close_turn()
    return problems
