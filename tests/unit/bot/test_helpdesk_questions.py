"""The help-desk containment set (tests/e2e/helpdesk/questions) must ask what the model never
saw in training, and every answer key must name a response or action of the domain."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.actions.parsing import normalize

ROOT = Path(__file__).resolve().parents[3]
QUESTIONS = ROOT / "tests" / "e2e" / "helpdesk" / "questions"
DOMAIN = yaml.safe_load((ROOT / "bot" / "domain.yml").read_text(encoding="utf-8"))


def training_lines() -> set[str]:
    """Every user line of bot/data: NLU examples, and story and rule user turns."""
    seen: set[str] = set()
    for path in (ROOT / "bot" / "data").rglob("*.yml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in data.get("nlu") or []:
            for line in str(block.get("examples", "")).splitlines():
                seen.add(normalize(line.strip().lstrip("- ")))
        for key in ("stories", "rules"):
            for story in data.get(key) or []:
                for step in story.get("steps") or []:
                    if "user" in step:
                        seen.add(normalize(str(step["user"])))
    seen.discard("")
    return seen


def entries() -> list[dict[str, object]]:
    found: list[dict[str, object]] = []
    for path in sorted(QUESTIONS.glob("*.yml")):
        found += yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return found


def test_no_question_is_a_training_example() -> None:
    seen = training_lines()
    overlap = [str(e["say"]) for e in entries() if normalize(str(e["say"])) in seen]
    assert overlap == []


def test_questions_are_many_and_asked_once() -> None:
    said = [normalize(str(e["say"])) for e in entries()]
    assert len(said) >= 90
    assert len(set(said)) == len(said)


def test_every_answer_key_exists() -> None:
    known = set(DOMAIN["responses"]) | set(DOMAIN["actions"])
    known |= {name.replace("/", "_") for name in known}
    for entry in entries():
        expect = entry["expect"]
        for name in expect if isinstance(expect, list) else [expect]:
            assert str(name) in known, entry
        assert entry.get("as", "visitor") in ("visitor", "family"), entry
