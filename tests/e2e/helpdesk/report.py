"""Plays the help-desk containment set against a stack of its own and prints the rate and each
miss.

    .venv/bin/python -m tests.e2e.helpdesk.report [-k WORDS] [--topic faq] [--workers 2]

Starts the backend (demo city on a fresh SQLite file), the action server and Rasa with
models/current.tar.gz (`make model` first), as the end-to-end tests do; or plays against a
stack already running in demo mode (`--rasa-url`, `--backend-url`, `--database-url`). Exit
status 1 when fewer than 90 % of the questions get the right first reply.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from sqlalchemy import create_engine

from tests.e2e.helpdesk.containment import REQUIRED_RATE, Result, load_entries, play_all, summary

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "scripts"))

from stack import Ports, Stack, running  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("-k", default="", help="only the questions containing these words")
    parser.add_argument("--topic", default="", help="only this file of questions/")
    parser.add_argument("--workers", type=int, default=2, help="conversations at once")
    parser.add_argument("--rasa-url", help="a running stack's Rasa (with the two below)")
    parser.add_argument("--backend-url")
    parser.add_argument("--database-url")
    args = parser.parse_args()
    entries = [
        e
        for e in load_entries()
        if args.k in e.say and (not args.topic or e.topic == args.topic)
    ]
    if args.rasa_url:
        engine = create_engine(args.database_url)
        try:
            results = play_all(
                entries, args.rasa_url, args.backend_url, engine, workers=args.workers,
                progress=_progress,
            )
        finally:
            engine.dispose()
        return _print(results)
    with tempfile.TemporaryDirectory() as work:
        url = f"sqlite:///{Path(work) / 'helpdesk.db'}"
        env = {**os.environ, "DEMO_MODE": "1", "DATABASE_URL": url}
        subprocess.run(
            [str(ROOT / ".venv/bin/python"), "-m", "backend.demo"],
            cwd=ROOT, env=env, check=True, capture_output=True,
        )
        stack = Stack(
            ports=Ports.free(),
            env={"DEMO_MODE": "1", "DATABASE_URL": url},
            log_dir=ROOT / "tests" / "artifacts" / "helpdesk-logs",
        )
        engine = create_engine(url)
        try:
            with running(stack, timeout=300):
                results = play_all(
                    entries, stack.rasa_url, stack.backend_url, engine, workers=args.workers,
                    progress=_progress,
                )
        finally:
            engine.dispose()
    return _print(results)


def _progress(result: Result) -> None:
    verdict = "ok  " if result.passed else "MISS"
    print(f"{verdict} [{result.entry.topic}] {result.entry.say}", file=sys.stderr, flush=True)


def _print(results: list[Result]) -> int:
    print(summary(results))
    passed = sum(r.passed for r in results)
    return 0 if results and passed / len(results) >= REQUIRED_RATE else 1


if __name__ == "__main__":
    raise SystemExit(main())
