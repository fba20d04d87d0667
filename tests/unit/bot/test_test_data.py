"""The test conversations must use wording the model never saw in training."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.actions.parsing import normalize

ROOT = Path(__file__).resolve().parents[3]


def training_examples() -> set[str]:
    seen: set[str] = set()
    for path in (ROOT / "bot" / "data" / "nlu").glob("*.yml"):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            for line in str(block.get("examples", "")).splitlines():
                seen.add(normalize(line.lstrip("- ")))
    return seen


def test_story_and_nlu_test_wording_is_not_training_data() -> None:
    seen = training_examples()
    stories = yaml.safe_load(
        (ROOT / "tests" / "bot" / "test_stories.yml").read_text(encoding="utf-8")
    )
    said = [
        step["user"] for story in stories["stories"] for step in story["steps"] if "user" in step
    ]
    nlu = yaml.safe_load((ROOT / "tests" / "bot" / "nlu_test.yml").read_text(encoding="utf-8"))
    said += [line.lstrip("- ") for block in nlu["nlu"] for line in block["examples"].splitlines()]
    assert len(said) > 60
    reused = [s for s in said if normalize(s) in seen]
    assert reused == []
