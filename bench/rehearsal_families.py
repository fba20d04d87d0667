"""The families of bench/rush_rehearsal.py, each a task against the backend's HTTP API as the
bot's channels call it: arrive (a few before the opening, most in its first minutes), join the
waiting room, ask their place every ~30 s of night time, and once admitted register their
children through the cart with a parent's think times, then check out (or abandon).

Night time is the backend's demo clock running `speed` times faster than the wall clock: every
wait here is in night seconds, divided by the speed."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from rehearsal_seed import Household

SERVICE = {"Authorization": "Bearer dev-service-secret"}
POLL_SECONDS = 30.0
# The waiting page asks every 30 s once its turn is a few minutes away; farther back it asks
# again after a third of the wait it was told (at most every 5 minutes): a parent 40 minutes
# from the front gets nothing from hearing it every 30 s, and the backend is spared.
NEAR_FRONT_MINUTES = 3.0
LONGEST_POLL_SECONDS = 300.0
THINK_SECONDS = (10.0, 60.0)
ABANDON_SHARE = 0.12
WAITLIST_SHARE = 0.4
GARDE_SHARE = 0.3


@dataclass
class Night:
    """The backend's clock as the client sees it (set once at the start, then it runs)."""

    speed: float
    night_ref: datetime
    real_ref: float = field(default_factory=time.monotonic)

    def now(self) -> datetime:
        return self.night_ref + timedelta(seconds=(time.monotonic() - self.real_ref) * self.speed)

    async def sleep(self, night_seconds: float) -> None:
        await asyncio.sleep(max(0.0, night_seconds) / self.speed)

    async def until(self, instant: datetime) -> None:
        await self.sleep((instant - self.now()).total_seconds())


@dataclass
class Tally:
    """Every answer by HTTP status, refusals by error code, and what failed outright."""

    statuses: Counter[int] = field(default_factory=Counter)
    refusals: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    act_ms: list[float] = field(default_factory=list)  # every request but the polls

    def act_pct(self, p: float) -> float:
        data = sorted(self.act_ms) or [0.0]
        return data[min(len(data) - 1, int(round(p / 100 * (len(data) - 1))))]

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)


@dataclass
class Journey:
    household: Household
    arrival: datetime
    abandons: bool
    joined: bool = False
    admitted_seen: bool = False
    last_place: dict[str, Any] | None = None
    polls: int = 0
    waited_seconds: float = 0.0  # night time from joining to seeing its admission (or the end)
    # not_arrived, waiting, registering, then checked_out | abandoned | nothing_held, or
    # join_refused; `stopped` when the rehearsal ended first
    outcome: str = "not_arrived"
    order_id: int | None = None
    cart_lines: set[int] = field(default_factory=set)  # in the cart the parent last saw
    checked_out_lines: set[int] = field(default_factory=set)  # on the order it was shown


class Api:
    """Two connection pools: the families asking their place share one, everything else (joining,
    registering) has the other. When the machine cannot answer every poll on time, polls come
    less often (the report gives their real interval) instead of queueing a parent's cart change
    behind thousands of them in the load generator."""

    def __init__(self, polls: httpx.AsyncClient, acts: httpx.AsyncClient, tally: Tally) -> None:
        self.polls, self.acts, self.tally = polls, acts, tally

    async def call(self, method: str, path: str, token: str | None = None, *,
                   poll: bool = False, **kwargs: Any) -> httpx.Response | None:
        headers = {**SERVICE, **({"X-Family-Token": token} if token else {})}
        client = self.polls if poll else self.acts
        started = time.perf_counter()
        try:
            r = await client.request(method, path, headers=headers, **kwargs)
        except httpx.HTTPError as error:
            self.tally.failures.append(f"{method} {path}: {type(error).__name__}")
            return None
        if not poll:
            self.tally.act_ms.append((time.perf_counter() - started) * 1000)
        self.tally.statuses[r.status_code] += 1
        if r.status_code >= 500:
            self.tally.failures.append(f"{method} {path}: {r.status_code} {r.text[:200]}")
        elif r.status_code >= 400:
            code = (r.json().get("error") or {}).get("code", "?")
            self.tally.refusals[f"{r.status_code} {code}"] += 1
        return r


def arrivals(count: int, opening: datetime, rng: random.Random) -> list[datetime]:
    """15 % in the five minutes before the opening (the pre-queue), 70 % in its first five
    minutes, the rest over the next quarter of an hour."""
    out = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.15:
            offset = -rng.uniform(0, 300)
        elif roll < 0.85:
            offset = rng.uniform(0, 300)
        else:
            offset = rng.uniform(300, 1200)
        out.append(opening + timedelta(seconds=offset))
    return out


def poll_after(place: dict[str, Any]) -> float:
    told = place.get("estimated_wait_minutes")
    if told is None or float(told) <= NEAR_FRONT_MINUTES:
        return POLL_SECONDS
    return min(LONGEST_POLL_SECONDS, max(POLL_SECONDS, float(told) * 60 / 3))


class Family:
    def __init__(self, journey: Journey, api: Api, night: Night, rng: random.Random) -> None:
        self.j, self.api, self.night, self.rng = journey, api, night, rng
        self.token = journey.household.token

    async def think(self) -> None:
        await self.night.sleep(self.rng.uniform(*THINK_SECONDS))

    async def run(self) -> None:
        await self.night.until(self.j.arrival)
        r = await self.api.call("POST", "/api/waiting-room/join", self.token, json={})
        if r is None or r.status_code != 200:
            self.j.outcome = "join_refused"
            return
        self.j.joined, self.j.outcome = True, "waiting"
        place, joined = r.json(), self.night.now()
        while place["status"] == "waiting":
            self.j.last_place = place
            await self.night.sleep(self.rng.uniform(0.8, 1.2) * poll_after(place))
            r = await self.api.call("GET", "/api/waiting-room/me", self.token, poll=True)
            self.j.polls += 1
            self.j.waited_seconds = (self.night.now() - joined).total_seconds()
            if r is not None and r.status_code == 200:
                place = r.json()
        self.j.last_place = place
        if place["status"] == "finished":
            # let in and let go (the idle grace) between two polls: the parent missed the turn
            self.j.outcome = "missed_turn"
        if place["status"] != "admitted":
            return
        self.j.admitted_seen, self.j.outcome = True, "registering"
        await self.register()

    async def register(self) -> None:
        cart: dict[str, Any] = {"lines": []}
        for child in self.j.household.children:
            await self.think()
            cart = await self.register_child(child) or cart
        if self.j.abandons:
            self.j.outcome = "abandoned"
            return
        held = {line["id"] for line in cart["lines"] if line["status"] == "held"}
        if not held:
            self.j.outcome = "nothing_held"
            return
        await self.think()
        await self.api.call("GET", "/api/checkout/terms", self.token)
        await self.think()
        body = {"installments": 1, "accept_terms": True, "card_on_file_consent": False,
                "idempotency_key": uuid.uuid4().hex}
        r = await self.api.call("POST", "/api/checkout", self.token, json=body)
        if r is not None and r.status_code == 201:
            order = r.json()
            self.j.outcome, self.j.order_id = "checked_out", int(order["order_id"])
            self.j.cart_lines = {int(line["id"]) for line in cart["lines"]}
            self.j.checked_out_lines = {int(line["id"]) for line in order["lines"]}
        else:
            self.j.outcome = "nothing_held"

    async def register_child(self, child: int) -> dict[str, Any] | None:
        """The child's weeks at one site; a second site if none was held nor waitlisted."""
        r = await self.api.call("GET", "/api/catalog/eligible", self.token,
                                params={"child_id": child})
        if r is None or r.status_code != 200:
            return None
        groups = [g for p in r.json()["programs"] if p["category"] == "camp_de_jour"
                  for g in p["groups"]]
        weeks = self.rng.choices((1, 2, 3, 4), weights=(25, 30, 25, 20))[0]
        first = self.rng.randint(1, 9 - weeks)
        wanted = set(range(first, first + weeks))
        options = ["garde"] if self.rng.random() < GARDE_SHARE else []
        waitlist = self.rng.random() < WAITLIST_SHARE
        cart: dict[str, Any] | None = None
        for group in self.rng.sample(groups, k=min(2, len(groups))):
            sessions = [s["id"] for s in group["sessions"] if s["number"] in wanted]
            body = {"child_id": child, "session_ids": sessions, "options": options,
                    "tshirt_size": "P", "join_waitlist": waitlist}
            r = await self.api.call("POST", "/api/cart/lines", self.token, json=body)
            if r is None or r.status_code != 200:
                return cart
            answer = r.json()
            cart = answer["cart"]
            if any(x["outcome"] in ("held", "waitlisted") for x in answer["results"]):
                return cart
            await self.think()
        return cart


async def staff_changes_rate(client: httpx.AsyncClient, tally: Tally, night: Night,
                             rush_id: int, staff_token: str, at: datetime,
                             rate: float) -> dict[str, Any]:
    """The coordinator raises the rate once, in the middle of the night (staff API)."""
    await night.until(at)
    headers = {"Authorization": f"Bearer {staff_token}"}
    r = await client.patch(f"/api/staff/rushes/{rush_id}", json={"rate_per_minute": rate},
                           headers=headers)
    tally.statuses[r.status_code] += 1
    if r.status_code != 200:
        tally.failures.append(f"PATCH rush: {r.status_code} {r.text[:200]}")
    return {"changed_at": night.now(), "status": r.json()}
