"""A time-bounded storm of reservations: `clients` requests always in flight, each from the
next bench family, until `seconds` have passed (or the families run out, which the checks
report)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx
from night_seed import Ask

SERVICE = {"Authorization": "Bearer dev-service-secret"}


@dataclass(frozen=True)
class Answer:
    ask: Ask
    status: int
    outcome: str | None
    line_id: int | None
    position: int | None
    ms: float


def storm(base: str, path: str, asks: list[Ask], *, clients: int,
          seconds: float) -> tuple[list[Answer], float]:
    return asyncio.run(_storm(base, path, asks, clients, seconds))


async def _storm(base: str, path: str, asks: list[Ask], clients: int,
                 seconds: float) -> tuple[list[Answer], float]:
    answers: list[Answer] = []
    queue = iter(asks)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        t0 = time.perf_counter()
        deadline = t0 + seconds

        async def worker() -> None:
            for ask in queue:
                if time.perf_counter() >= deadline:
                    return
                body: dict[str, Any] = {"child_id": ask.child_id, "session_ids": [ask.session_id],
                                        "options": [], "tshirt_size": "P", "join_waitlist": True}
                start = time.perf_counter()
                r = await client.post(path, json=body,
                                      headers={**SERVICE, "X-Family-Token": ask.token})
                ms = (time.perf_counter() - start) * 1000
                result = r.json()["results"][0] if r.status_code == 200 else {}
                answers.append(Answer(ask, r.status_code, result.get("outcome"),
                                      result.get("line_id"), result.get("waitlist_position"), ms))

        await asyncio.gather(*(worker() for _ in range(clients)))
        return answers, time.perf_counter() - t0
