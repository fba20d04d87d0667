"""`make test`: every suite of the project, each in the environment it belongs to.

The backend's tests run on Python 3.11, the bot's (actions, channels) on Python 3.10 beside
Rasa; Rasa's own checks (data validation, test stories) run through its CLI. Each step's
result is counted from pytest's JUnit XML; the last line is the whole suite's total.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "var" / "test-results"
APP_PY = str(ROOT / ".venv" / "bin" / "python")
BOT_PY = str(ROOT / ".venv-bot" / "bin" / "python")
RASA = str(ROOT / ".venv-bot" / "bin" / "rasa")

# Test folders whose code imports Rasa or rasa_sdk: they run in the bot's environment.
BOT_ENV_TESTS = [
    "tests/unit/bot",
    "tests/unit/channels/test_sms_render.py",
    "tests/unit/channels/test_sms_choices.py",
    "tests/unit/channels/test_channel_identity.py",
    "tests/integration/channels/sms",
    "tests/bot_actions",
    "tests/integration/several_processes",
    "tests/integration/tracker_store",
]


@dataclass
class Outcome:
    name: str
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float = 0.0


def _existing(paths: list[str]) -> list[str]:
    return [p for p in paths if (ROOT / p).exists()]


def run_pytest(name: str, python: str, args: list[str]) -> Outcome:
    xml = RESULTS / f"{name}.xml"
    xml.unlink(missing_ok=True)
    started = time.monotonic()
    argv = [python, "-m", "pytest", *args, f"--junitxml={xml}", "-p", "no:cacheprovider"]
    code = subprocess.call(argv, cwd=ROOT)
    outcome = Outcome(name, seconds=time.monotonic() - started)
    if xml.exists():
        for suite in ET.parse(xml).getroot().iter("testsuite"):
            tests = int(suite.get("tests", 0))
            failed = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
            skipped = int(suite.get("skipped", 0))
            outcome.passed += tests - failed - skipped
            outcome.failed += failed
            outcome.skipped += skipped
    if code not in (0, 5) and outcome.failed == 0:  # crashed before reporting (5: none collected)
        outcome.failed = 1
    return outcome


def run_command(name: str, argv: list[str]) -> Outcome:
    started = time.monotonic()
    print(f"\n=== {name}: {' '.join(argv)}", flush=True)
    code = subprocess.call(argv, cwd=ROOT)
    ok = code == 0
    return Outcome(name, passed=int(ok), failed=int(not ok), seconds=time.monotonic() - started)


def main() -> int:
    RESULTS.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    outcomes: list[Outcome] = []

    ruff = str(ROOT / ".venv" / "bin" / "ruff")
    linted = ["backend", "bot", "tests", "scripts", "bench"]
    outcomes.append(run_command("ruff", [ruff, "check", *linted]))
    outcomes.append(run_command("mypy", [str(ROOT / ".venv/bin/mypy")]))

    ignore = [f"--ignore={p}" for p in BOT_ENV_TESTS]
    outcomes.append(run_pytest("backend", APP_PY, ["tests", *ignore, "-q"]))

    # tests/conftest.py holds the backend's fixtures (SQLAlchemy 2), which the bot's environment
    # cannot import: each bot folder runs with the conftest search cut at its own level.
    for path in _existing(BOT_ENV_TESTS):
        cut = path if (ROOT / path).is_dir() else str(Path(path).parent)
        name = "bot-" + path.replace("/", "_").removesuffix(".py")
        outcomes.append(run_pytest(name, BOT_PY, [path, f"--confcutdir={cut}", "-q"]))

    domain = "bot/domain" if (ROOT / "bot" / "domain").is_dir() else "bot/domain.yml"
    outcomes.append(run_command(
        "rasa data validate",
        [RASA, "data", "validate", "--config", "config.yml", "--domain", domain,
         "--data", "bot/data"],
    ))
    if (ROOT / "tests" / "bot").is_dir():
        outcomes.append(run_command(
            "rasa test stories",
            [RASA, "test", "core", "--model", "models/current.tar.gz", "--stories", "tests/bot",
             "--fail-on-prediction-errors", "--out", "var/test-results/rasa-core"],
        ))

    print("\n=== summary")
    for o in outcomes:
        print(f"{o.name:<40} {o.passed:>4} passed {o.failed:>3} failed {o.skipped:>3} skipped"
              f"  {o.seconds:6.1f} s")
    passed = sum(o.passed for o in outcomes)
    failed = sum(o.failed for o in outcomes)
    skipped = sum(o.skipped for o in outcomes)
    print(f"tests: {passed} passed, {failed} failed, {skipped} skipped", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
