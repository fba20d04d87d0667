"""The scripted parents (tests/e2e/parents) must write what the model never saw in training."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.actions.parsing import normalize

ROOT = Path(__file__).resolve().parents[3]
SCRIPTS = ROOT / "tests" / "e2e" / "parents"


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


def parent_lines() -> list[str]:
    said: list[str] = []
    for path in sorted(SCRIPTS.glob("*.yml")):
        for script in yaml.safe_load(path.read_text(encoding="utf-8"))["parents"]:
            said.append(str(script["opening"]))
            for answer in (script.get("answers") or {}).values():
                said += [str(a) for a in (answer if isinstance(answer, list) else [answer])]
    return [s for s in said if not s.startswith("<")]


def test_scripted_parents_are_not_training_data() -> None:
    said = parent_lines()
    assert len(said) > 150
    seen = training_lines()
    reused = sorted({s for s in said if normalize(s) in seen})
    assert reused == []
