"""Plays every scripted parent against a stack of its own and prints the rate and each failure.

    .venv/bin/python -m tests.e2e.scripted_parents_report [-k NAME_PART] [--workers 2]

Starts the backend (demo city on a fresh SQLite file), the action server and Rasa with
models/current.tar.gz (`bash scripts/model.sh` first), as the end-to-end tests do; or plays
against a stack already running in demo mode (`--rasa-url`, `--backend-url`, `--database-url`,
e.g. `make run`'s). Exit status 1 when fewer than 90 % of the scripts end with the expected
backend state.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from sqlalchemy import create_engine

from tests.e2e.scripted_parents import (
    REQUIRED_RATE,
    Outcome,
    load_scripts,
    play_all,
    summary,
)

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from stack import Ports, Stack, running  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", default="", help="only the scripts whose name contains this")
    parser.add_argument("--workers", type=int, default=2, help="conversations at once")
    parser.add_argument("--rasa-url", help="a running stack's Rasa (with the two below)")
    parser.add_argument("--backend-url")
    parser.add_argument("--database-url")
    parser.add_argument("--bot-root", type=Path, help="checkout of the running bot's domain")
    args = parser.parse_args()
    scripts = [s for s in load_scripts() if args.k in s.name]
    if args.rasa_url:
        engine = create_engine(args.database_url)
        outcomes = play_all(
            scripts,
            args.rasa_url,
            args.backend_url,
            engine,
            workers=args.workers,
            bot_root=args.bot_root,
            progress=_progress,
        )
        engine.dispose()
        return _print(outcomes)
    with tempfile.TemporaryDirectory() as work:
        url = f"sqlite:///{Path(work) / 'scripted.db'}"
        env = {**os.environ, "DEMO_MODE": "1", "DATABASE_URL": url}
        subprocess.run(
            [str(ROOT / ".venv/bin/python"), "-m", "backend.demo"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        stack = Stack(
            ports=Ports.free(),
            env={"DEMO_MODE": "1", "DATABASE_URL": url},
            log_dir=ROOT / "tests" / "artifacts" / "scripted-logs",
        )
        engine = create_engine(url)
        try:
            with running(stack, timeout=300):
                outcomes = play_all(
                    scripts,
                    stack.rasa_url,
                    stack.backend_url,
                    engine,
                    workers=args.workers,
                    progress=_progress,
                )
        finally:
            engine.dispose()
    return _print(outcomes)


def _progress(outcome: Outcome) -> None:
    verdict = "ok  " if outcome.passed else "FAIL"
    print(f"{verdict} {outcome.script.name}", file=sys.stderr, flush=True)


def _print(outcomes: list[Outcome]) -> int:
    print(summary(outcomes))
    passed = sum(o.passed for o in outcomes)
    return 0 if outcomes and passed / len(outcomes) >= REQUIRED_RATE else 1


if __name__ == "__main__":
    raise SystemExit(main())
