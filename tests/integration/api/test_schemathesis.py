"""Schemathesis against the OpenAPI document the backend serves, on the demo city's data.

Every operation but the staff routes (`/api/staff`, being reworked separately and fuzzed by
test_fuzz.py) runs through schemathesis's phases (explicit examples, coverage of the
schema's boundaries and undeclared methods, generated data) with all its checks, under the
service secret and a family token. A fixed seed and deterministic generation keep the run the
same from one machine to the next; the number of examples per operation bounds its length.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from api_harness import (
    SERVICE,
    START,
    Backend,
    identify,
    seed_demo_data,
    start_backend,
    stop_backend,
)
from schemathesis.engine import Status, events, from_schema

from backend.adapters.clock import ManualClock

MAX_EXAMPLES = 25
SEED = 20270420
# A one-time code of the right shape may still be wrong, expired or locked: a refusal the
# schema cannot foresee (code_invalid 422, code_expired 410, challenge_locked 423).
ONE_TIME_CODE_REFUSALS = ["2xx", "401", "403", "404", "409", "410", "422", "423", "429"]


class ServedBackend:
    """A backend on its own event loop in a thread: schemathesis calls it synchronously."""

    def __init__(self, url: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        clock = ManualClock(START)
        seed_demo_data(url, clock)
        self.backend: Backend = self.run(start_backend(url, clock=clock))

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=120)

    def close(self) -> None:
        self.run(stop_backend(self.backend))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=30)
        self.loop.close()


@dataclass
class Outcome:
    cases: int = 0
    checks: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def run_schemathesis(base_url: str, family_token: str) -> Outcome:
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "continue-on-failure": True,
            "headers": {
                "Authorization": f"Bearer {SERVICE}",
                "X-Family-Token": family_token,
            },
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
            },
            "phases": {"stateful": {"enabled": False}},
            "checks": {"enabled": True},
            "operations": [
                {
                    "include-path-regex": "^/api/identify/(verify|resend)$",
                    "checks": {
                        "positive_data_acceptance": {"expected-statuses": ONE_TIME_CODE_REFUSALS}
                    },
                }
            ],
        }
    )
    schema = schemathesis.openapi.from_url(f"{base_url}/docs/openapi.json", config=config)
    schema = schema.exclude(path_regex="^/api/staff")
    schema.config.update(base_url=base_url)  # type: ignore[attr-defined]
    outcome = Outcome()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            outcome.cases += len(recorder.cases)
            for case_id, checks in recorder.checks.items():
                for check in checks:
                    outcome.checks[check.name] += 1
                    if check.status == Status.FAILURE:
                        case = recorder.cases[case_id].value
                        info = check.failure_info
                        title = info.failure.message.splitlines()[0] if info is not None else ""
                        answer = recorder.interactions.get(case_id)
                        got = answer.response if answer is not None else None
                        seen = f"{got.status_code} {got.text[:200]!r}" if got else "no answer"
                        outcome.failures.append(
                            f"{case.method} {case.formatted_path} {check.name}: {title}"
                            f" (got {seen})"
                        )
        elif isinstance(event, events.NonFatalError):
            outcome.errors.append(f"{event.label}: {event.value!r}")
        elif isinstance(event, events.FatalError):
            outcome.errors.append(f"fatal: {event.exception!r}")
    return outcome


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ServedBackend]:
    served = ServedBackend(f"sqlite:///{tmp_path / 'schemathesis.db'}")
    try:
        yield served
    finally:
        served.close()


def test_the_document_tells_the_truth(served: ServedBackend) -> None:
    b = served.backend
    token = served.run(identify(b, "100001", "418-555-0101"))["family_token"]
    outcome = run_schemathesis(b.base_url, token)
    print(f"\nschemathesis: {outcome.cases} cases, {len(outcome.failures)} failures")
    print(dict(sorted(outcome.checks.items())))
    assert not outcome.errors, outcome.errors
    assert outcome.cases > 500
    for check in ("response_schema_conformance", "unsupported_method", "ignored_auth"):
        assert outcome.checks[check] > 0, check
    assert not outcome.failures, "\n".join(sorted(set(outcome.failures)))
