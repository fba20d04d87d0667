"""`make test`: every suite of the project, each in the environment it belongs to.

The backend's tests run on Python 3.11, the bot's (actions, channels) on Python 3.10 beside
Rasa; Rasa's own checks (data validation, test stories) run through its CLI. Each step's
result is counted from pytest's JUnit XML; the last line is the whole suite's total.

The steps are independent (free ports, a database or schema of their own), and most of a step's
time is spent waiting on another process (Rasa, the backend, PostgreSQL, Chromium): run one at a
time, the suite used about one core of two. So steps run `TEST_JOBS` at a time (default: the
number of cores, at most 2: what was measured), the slowest first; each step's output goes to
`var/test-results/<step>.log` and is printed whole when the step fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
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

# The backend environment's tests, cut into steps that can run side by side, slowest first
# (as measured on 2 cores); whatever folder is not named here runs in the last step.
BACKEND_STEPS = [
    "tests/e2e",
    "tests/integration/core",
    "tests/integration/payments_stripe",
    "tests/integration/money",
    "tests/integration/api",
    "tests/browser",
    "tests/integration/adapters",
    "tests/integration/faults",
]


@dataclass
class Step:
    name: str
    argv: list[str]
    junit: Path | None = None


@dataclass
class Outcome:
    name: str
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float = 0.0
    log: Path = field(default_factory=Path)


def _existing(paths: list[str]) -> list[str]:
    return [p for p in paths if (ROOT / p).exists()]


def pytest_step(name: str, python: str, args: list[str]) -> Step:
    xml = RESULTS / f"{name}.xml"
    argv = [python, "-m", "pytest", *args, f"--junitxml={xml}", "-p", "no:cacheprovider"]
    return Step(name, argv, xml)


def steps() -> list[Step]:
    out = [
        Step("ruff", [str(ROOT / ".venv/bin/ruff"), "check", "backend", "bot", "tests", "scripts",
                      "bench"]),
        Step("mypy", [str(ROOT / ".venv/bin/mypy")]),
    ]
    named = _existing(BACKEND_STEPS)
    for path in named:
        out.append(pytest_step("backend-" + path.removeprefix("tests/").replace("/", "_"),
                               APP_PY, [path, "-q"]))
    rest = [f"--ignore={p}" for p in [*BOT_ENV_TESTS, *named]]
    out.append(pytest_step("backend-rest", APP_PY, ["tests", *rest, "-q"]))

    # tests/conftest.py holds the backend's fixtures (SQLAlchemy 2), which the bot's environment
    # cannot import: each bot folder runs with the conftest search cut at its own level.
    for path in _existing(BOT_ENV_TESTS):
        cut = path if (ROOT / path).is_dir() else str(Path(path).parent)
        name = "bot-" + path.replace("/", "_").removesuffix(".py")
        out.append(pytest_step(name, BOT_PY, [path, f"--confcutdir={cut}", "-q"]))

    domain = "bot/domain" if (ROOT / "bot" / "domain").is_dir() else "bot/domain.yml"
    out.append(Step("rasa data validate", [RASA, "data", "validate", "--config", "config.yml",
                                           "--domain", domain, "--data", "bot/data"]))
    if (ROOT / "tests" / "bot").is_dir():
        out.append(Step("rasa test stories", [
            RASA, "test", "core", "--model", "models/current.tar.gz", "--stories", "tests/bot",
            "--fail-on-prediction-errors", "--out", "var/test-results/rasa-core",
        ]))
    return out


_print_lock = threading.Lock()


def run(step: Step) -> Outcome:
    log = RESULTS / f"{step.name.replace(' ', '_')}.log"
    if step.junit is not None:
        step.junit.unlink(missing_ok=True)
    started = time.monotonic()
    with log.open("w", encoding="utf-8") as out:
        code = subprocess.call(step.argv, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    outcome = Outcome(step.name, seconds=time.monotonic() - started, log=log)
    if step.junit is None:
        outcome.passed, outcome.failed = int(code == 0), int(code != 0)
    else:
        if step.junit.exists():
            for suite in ET.parse(step.junit).getroot().iter("testsuite"):
                tests = int(suite.get("tests", 0))
                failed = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
                skipped = int(suite.get("skipped", 0))
                outcome.passed += tests - failed - skipped
                outcome.failed += failed
                outcome.skipped += skipped
        # crashed before reporting (5: none collected)
        if code not in (0, 5) and outcome.failed == 0:
            outcome.failed = 1
    with _print_lock:
        verdict = "FAILED" if outcome.failed else "ok"
        print(f"=== {step.name}: {verdict} in {outcome.seconds:.0f} s ({' '.join(step.argv)})",
              flush=True)
        if outcome.failed:
            print(log.read_text(encoding="utf-8", errors="replace"), flush=True)
    return outcome


def main() -> int:
    RESULTS.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    jobs = int(os.environ.get("TEST_JOBS") or min(2, os.cpu_count() or 1))
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        outcomes = list(pool.map(run, steps()))

    print(f"\n=== summary ({jobs} at a time, {time.monotonic() - started:.0f} s)")
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
