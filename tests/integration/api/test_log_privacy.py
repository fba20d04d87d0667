"""No log line holds a one-time code, a payment-link token, a family token or a message body's
secret: a whole flow through the HTTP API (identify with a code, checkout, a texto the provider
refuses, the payment page, the webhook) with every record captured at DEBUG, access log on."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from api_harness import START, Backend, seed_demo_data, start_backend, stop_backend
from localstripe_process import pay_on_page
from order_flow import checked_out
from sqlalchemy import text

from backend.adapters.clock import ManualClock
from backend.db.engine import make_engine

_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class RefusingProvider:
    """A texto provider whose refusals quote what it was given, like some real ones do."""

    async def send(self, **kwargs: str) -> str:
        raise RuntimeError(f"provider refused the message {kwargs!r}")


@pytest.fixture
async def logged(database_url: str, caplog: pytest.LogCaptureFixture) -> AsyncIterator[Backend]:
    caplog.set_level(logging.DEBUG)  # before the engine exists: SQLAlchemy logs at DEBUG too
    clock = ManualClock(START)
    seed_demo_data(database_url, clock)
    running = await start_backend(database_url, clock=clock, access_log=True)
    try:
        yield running
    finally:
        await stop_backend(running)


def _rows(backend: Backend, sql: str) -> list[Any]:
    engine = make_engine(backend.settings.database_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql)))
    finally:
        engine.dispose()


def _everything_logged(records: list[logging.LogRecord]) -> str:
    parts = []
    for record in records:
        parts.append(record.getMessage())
        parts.extend(str(v) for k, v in vars(record).items() if k not in _STANDARD)
        parts.append(record.exc_text or "")
        if record.exc_info:
            parts.append(logging.Formatter().formatException(record.exc_info))
    return "\n".join(parts)


async def test_no_code_link_or_token_in_any_log(
    logged: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    family_token, order = await checked_out(logged)
    logged.app.ctx.state.sms = RefusingProvider()
    r = await logged.http.post("/api/staff/jobs/run", headers=logged.staff_headers())
    assert r.status_code == 200, r.text
    status, paid = await pay_on_page(order["payment_url"], "4242424242424242")
    assert status == 200 and paid["status"] == "paid", paid
    r = await logged.call("GET", f"/api/orders/{order['order_id']}", token=family_token)
    assert r.json()["status"] == "paid"

    codes = {
        m.group(0)
        for (body,) in _rows(logged, "SELECT body FROM notification WHERE kind = 'otp'")
        for m in re.finditer(r"\b\d{6}\b", body)
    }
    pay_tokens = {t for (t,) in _rows(logged, "SELECT pay_token FROM orders") if t}
    bodies = [b for (b,) in _rows(logged, "SELECT body FROM notification")]
    assert codes and pay_tokens and bodies
    secrets = {*codes, *pay_tokens, family_token}

    logged_text = _everything_logged(caplog.records)
    access = [r for r in caplog.records if r.name == "sanic.access"]
    assert any("/p/" in str(getattr(r, "request", "")) for r in access), "access log captured"
    assert any(r.name == "backend.services.dispatch" for r in caplog.records), "refusal logged"
    leaked = sorted(s for s in secrets if s in logged_text)
    assert leaked == []
    for body in bodies:
        assert body not in logged_text
    assert "4242424242424242" not in logged_text and "4242 4242 4242 4242" not in logged_text
