"""Identification tells nothing and cannot be hammered: every start and resend answers the same
body whatever the file, and starts are limited per typed phone, typed client number and client
address (`rate_limited`, nothing done), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from api_harness import Backend, last_code, seed_minimal, start_backend, stop_backend
from sqlalchemy import func, select, text

from backend.db.access import IdentityChallenge
from backend.db.engine import make_engine
from backend.db.notifications import Notification

START = "/api/identify/start"
VERIFY = "/api/identify/verify"
RESEND = "/api/identify/resend"


def _counts(backend: Backend) -> tuple[int, int]:
    """(challenges, outbox messages) in the database."""
    engine = make_engine(backend.settings.database_url)
    try:
        with engine.connect() as conn:
            challenges = conn.scalar(select(func.count()).select_from(IdentityChallenge))
            messages = conn.scalar(select(func.count()).select_from(Notification))
    finally:
        engine.dispose()
    return int(challenges or 0), int(messages or 0)


def _shape(body: dict[str, Any]) -> dict[str, Any]:
    """The body with the challenge id's value replaced by its length (ids differ, by design)."""
    return {key: len(value) if key == "challenge_id" else value for key, value in body.items()}


async def _start(
    backend: Backend, client: str, phone: str, address: str | None = None
) -> tuple[int, dict[str, Any]]:
    headers = {"X-Client-Address": address} if address else {}
    r = await backend.call(
        "POST", START, json={"client_number": client, "phone": phone}, headers=headers
    )
    return r.status_code, dict(r.json())


async def _refusals(backend: Backend, challenge_id: str) -> list[tuple[int, Any]]:
    """Three resends, a fourth, then six wrong codes: what the caller sees at each step."""
    seen: list[tuple[int, Any]] = []
    for _ in range(4):
        r = await backend.call("POST", RESEND, json={"challenge_id": challenge_id})
        body = r.json()
        seen.append((r.status_code, _shape(body) if r.status_code == 200 else body["error"]))
    for _ in range(6):
        r = await backend.call(
            "POST", VERIFY, json={"challenge_id": challenge_id, "code": "abcdef"}
        )
        seen.append((r.status_code, r.json()["error"]))
    return seen


async def test_start_and_resend_answer_the_same_in_every_case(backend: Backend) -> None:
    cases = {
        "match, texto": ("100001", "418-555-0101"),
        "match, courriel": ("100004", "581-555-0104"),
        "unknown client number": ("999999", "418-555-0101"),
        "phone not on file": ("100002", "514-555-0000"),
    }
    answers = {}
    for label, (client, phone) in cases.items():
        status, body = await _start(backend, client, phone)
        answers[label] = (status, _shape(body))
    # Marc's file: the family's hourly cap of codes is reached, the seventh start sends nothing.
    for _ in range(6):
        await _start(backend, "100002", "418-555-0102")
    sent_before = _counts(backend)[1]
    status, capped = await _start(backend, "100002", "418-555-0102")
    answers["family's hourly cap reached"] = (status, _shape(capped))
    assert _counts(backend)[1] == sent_before  # no code went out

    expected = (200, {"challenge_id": 22})
    assert answers == {label: expected for label in answers}

    # The two real challenges and the two that matched nothing resend and refuse identically.
    started = {}
    for label, (client, phone) in cases.items():
        started[label] = (await _start(backend, client, phone))[1]["challenge_id"]
    started["family's hourly cap reached"] = capped["challenge_id"]
    sequences = {label: await _refusals(backend, cid) for label, cid in started.items()}
    reference = sequences["match, texto"]
    assert [step[0] for step in reference] == [200, 200, 200, 429, 422, 422, 422, 422, 423, 423]
    for label, sequence in sequences.items():
        assert sequence == reference, label


async def test_a_stranger_trying_client_numbers_with_one_phone_is_stopped(
    backend: Backend,
) -> None:
    for n in range(10):
        status, _ = await _start(backend, f"2000{n:02d}", "514-555-0199")
        assert status == 200
    before = _counts(backend)
    status, body = await _start(backend, "100001", "(514) 555-0199")  # same phone, typed apart
    assert status == 429
    assert body["error"]["code"] == "rate_limited"
    assert "patienter" in body["error"]["message"] and "418 555-0199" in body["error"]["message"]
    assert _counts(backend) == before  # nothing recorded, nothing sent

    # Another phone is not concerned; the same phone is served again an hour later.
    assert (await _start(backend, "100001", "418-555-0101"))[0] == 200
    backend.clock.advance(timedelta(minutes=61))
    assert (await _start(backend, "300000", "514-555-0199"))[0] == 200


async def test_a_stranger_trying_phones_on_one_client_number_is_stopped(
    backend: Backend,
) -> None:
    for n in range(10):
        status, _ = await _start(backend, "100001", f"514-555-01{n:02d}")
        assert status == 200
    before = _counts(backend)
    # Even the right phone now waits: the refusal must not depend on whether the pair matches.
    status, body = await _start(backend, "100001", "418-555-0101")
    assert status == 429 and body["error"]["code"] == "rate_limited"
    status, body = await _start(backend, "100001", "514-555-0188")
    assert status == 429 and body["error"]["code"] == "rate_limited"
    assert _counts(backend) == before
    backend.clock.advance(timedelta(minutes=61))
    status, body = await _start(backend, "100001", "418-555-0101")
    assert status == 200
    code = last_code(backend, "+14185550101")
    r = await backend.call(
        "POST", VERIFY, json={"challenge_id": body["challenge_id"], "code": code}
    )
    assert r.status_code == 200


@pytest.fixture
async def strict(database_url: str) -> AsyncIterator[Backend]:
    seed_minimal(database_url)
    running = await start_backend(database_url, identify_per_address_per_hour=3)
    try:
        yield running
    finally:
        await stop_backend(running)


async def test_one_client_address_is_limited_when_the_action_server_names_it(
    strict: Backend,
) -> None:
    for n in range(3):
        status, _ = await _start(strict, f"4000{n:02d}", f"514-555-02{n:02d}", "203.0.113.7")
        assert status == 200
    before = _counts(strict)
    status, body = await _start(strict, "100001", "418-555-0101", "203.0.113.7")
    assert status == 429 and body["error"]["code"] == "rate_limited"
    assert _counts(strict) == before
    # Another address, or a caller that names none, is not concerned.
    assert (await _start(strict, "100001", "418-555-0101", "198.51.100.4"))[0] == 200
    assert (await _start(strict, "100002", "418-555-0102"))[0] == 200
    # The counts are made on keyed hashes: the table keeps no address, phone or client number
    # someone merely tried.
    engine = make_engine(strict.settings.database_url)
    try:
        with engine.connect() as conn:
            rows = [
                " ".join(str(v) for v in row)
                for row in conn.execute(text("SELECT * FROM identity_challenge"))
            ]
    finally:
        engine.dispose()
    assert not any(
        typed in row for row in rows for typed in ("400001", "5145550201", "203.0.113.7")
    )


@pytest.fixture
async def two_workers(database_url: str) -> AsyncIterator[tuple[Backend, Backend]]:
    """Two backend apps (two workers) on one database, with one clock."""
    seed_minimal(database_url)
    first = await start_backend(database_url)
    second = await start_backend(database_url, clock=first.clock)
    try:
        yield first, second
    finally:
        await stop_backend(second)
        await stop_backend(first)


async def test_simultaneous_starts_on_two_workers_share_one_limit(
    two_workers: tuple[Backend, Backend],
) -> None:
    first, second = two_workers
    # 30 strangers' tries with one phone, at once, half on each worker: exactly the limit
    # passes (PostgreSQL: without the advisory lock, concurrent counts let more through).
    calls = [
        _start(first if n % 2 else second, f"5000{n:02d}", "514-555-0142") for n in range(30)
    ]
    statuses = sorted(status for status, _ in await asyncio.gather(*calls))
    assert statuses == [200] * 10 + [429] * 20
    assert _counts(first)[0] == 10
