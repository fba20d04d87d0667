"""Schemathesis against the OpenAPI document the backend serves, on the demo city's data.

Every operation but the staff routes (`/api/staff`, being reworked separately and fuzzed by
test_fuzz.py) runs through schemathesis's phases (explicit examples, coverage of the schema's
boundaries and of undeclared methods, generated data) with all its checks, under the service
secret and a family token. The production routes run on a backend without demo mode (so that
no generated request moves the demo clock under the others); the demo-only routes
(`/api/dev`, `/demo`) then run on a demo-mode backend of their own. A fixed seed and
deterministic generation keep the run the same from one machine to the next; the number of
examples per operation bounds its length.
"""

from __future__ import annotations

import asyncio
import re
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

MAX_EXAMPLES = 15
SEED = 20270420
DEMO_ONLY = "^/(api/dev|demo)/"
# Refusals of well-formed requests that no schema can foresee, per path. A one-time code of
# the right shape may still be wrong, expired or locked (code_invalid 422, code_expired 410,
# challenge_locked 423); the demo clock refuses a date-time outside 2000-2100 (422), where the
# date arithmetic of holds and installments would overflow.
# (Told apart here rather than in schemathesis's per-operation settings, which would also
# widen the set of operations run.)
EXPECTED_REFUSALS = {
    "^/api/identify/(verify|resend)$": (410, 422, 423),
    "^/api/dev/clock$": (422,),
    # A callback's topic and step are words of the schema's shape that must also be on the
    # domain's lists (backend/domain/callbacks.py); a visitor must give a phone.
    "^/api/helpdesk/callbacks$": (422,),
    # A new file's code, like identification's; its check must be verified and unused, and
    # its phone or courriel on no file yet.
    "^/api/signup/verify$": (404, 410, 422, 423),
    "^/api/signup/family$": (403, 409, 422),
    "^/api/signup/start$": (422, 429),
}
# A phone of the documented shape may still be a number no country assigns ("+1 911 555 0101"):
# libphonenumber's data decides (backend/services/phones.py), a pattern cannot.
UNASSIGNED_PHONE = {"phone"}


class ServedBackend:
    """A backend on its own event loop in a thread: schemathesis calls it synchronously."""

    def __init__(self, url: str, *, demo_mode: bool) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        clock = ManualClock(START)
        seed_demo_data(url, clock)
        self.backend: Backend = self.run(start_backend(url, clock=clock, demo_mode=demo_mode))

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
    per_operation: Counter[str] = field(default_factory=Counter)
    expected_refusals: int = 0
    failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def run_schemathesis(base_url: str, family_token: str, *, demo_only: bool) -> Outcome:
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "continue-on-failure": True,
            "headers": {"Authorization": f"Bearer {SERVICE}", "X-Family-Token": family_token},
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
            },
            "phases": {"stateful": {"enabled": False}},
            "checks": {"enabled": True},
        }
    )
    schema = schemathesis.openapi.from_url(f"{base_url}/docs/openapi.json", config=config)
    schema = schema.exclude(path_regex="^/api/staff")
    # Signing out would end the family session every later case uses (tests/integration/api/
    # test_sign_out.py covers that route).
    schema = schema.exclude(path_regex="^/api/family/session/revoke$")
    if demo_only:
        schema = schema.include(path_regex=DEMO_ONLY)
    else:
        schema = schema.exclude(path_regex=DEMO_ONLY)
    schema.config.update(base_url=base_url)  # type: ignore[attr-defined]
    outcome = Outcome()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            _record(event.recorder, outcome)
        elif isinstance(event, events.NonFatalError):
            outcome.errors.append(f"{event.label}: {event.value!r}")
        elif isinstance(event, events.FatalError):
            outcome.errors.append(f"fatal: {event.exception!r}")
    return outcome


def _expected_refusal(path: str, response: Any) -> bool:
    status = response.status_code
    if any(re.match(p, path) and status in codes for p, codes in EXPECTED_REFUSALS.items()):
        return True
    if status != 422:
        return False
    try:
        fields = response.json()["error"].get("fields") or {}
    except (ValueError, KeyError, TypeError, AttributeError):
        return False
    return set(fields) == UNASSIGNED_PHONE


def _record(recorder: Any, outcome: Outcome) -> None:
    outcome.cases += len(recorder.cases)
    outcome.per_operation[recorder.label] += len(recorder.cases)
    for case_id, checks in recorder.checks.items():
        for check in checks:
            outcome.checks[check.name] += 1
            if check.status != Status.FAILURE:
                continue
            case = recorder.cases[case_id].value
            info = check.failure_info
            title = info.failure.message.splitlines()[0] if info is not None else ""
            answer = recorder.interactions.get(case_id)
            got = answer.response if answer is not None else None
            refused = got is not None and _expected_refusal(case.path, got)
            if check.name == "positive_data_acceptance" and refused:
                outcome.expected_refusals += 1
                continue
            seen = f"{got.status_code} {got.text[:200]!r}" if got else "no answer"
            outcome.failures.append(
                f"{case.method} {case.formatted_path} {check.name}: {title} (got {seen})"
            )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ServedBackend]:
    served = ServedBackend(f"sqlite:///{tmp_path / 'schemathesis.db'}", demo_mode=False)
    try:
        yield served
    finally:
        served.close()


@pytest.fixture
def served_demo(tmp_path: Path) -> Iterator[ServedBackend]:
    served = ServedBackend(f"sqlite:///{tmp_path / 'schemathesis-demo.db'}", demo_mode=True)
    try:
        yield served
    finally:
        served.close()


def _assert_truthful(outcome: Outcome, label: str) -> None:
    print(
        f"\nschemathesis, {label}: {outcome.cases} cases, {len(outcome.failures)} failures,"
        f" {outcome.expected_refusals} expected refusals"
    )
    print(dict(sorted(outcome.checks.items())))
    print(dict(sorted(outcome.per_operation.items())))
    assert not outcome.errors, outcome.errors
    assert not outcome.failures, "\n".join(sorted(set(outcome.failures)))


def test_the_document_tells_the_truth(served: ServedBackend) -> None:
    b = served.backend
    token = served.run(identify(b, "100001", "418-555-0101"))["family_token"]
    outcome = run_schemathesis(b.base_url, token, demo_only=False)
    _assert_truthful(outcome, "production routes")
    assert outcome.cases > 500
    for check in ("response_schema_conformance", "unsupported_method", "ignored_auth"):
        assert outcome.checks[check] > 0, check


def test_the_demo_routes_too(served_demo: ServedBackend) -> None:
    b = served_demo.backend
    token = served_demo.run(identify(b, "100001", "418-555-0101"))["family_token"]
    outcome = run_schemathesis(b.base_url, token, demo_only=True)
    _assert_truthful(outcome, "demo-only routes")
    assert outcome.cases > 50
