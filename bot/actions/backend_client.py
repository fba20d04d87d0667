"""The action server's only door to the backend: HTTP + JSON (contract in docs/API.md).

Every call carries the service secret; family-scoped calls also carry the family token.
Errors come back as BackendError with the backend's stable machine code, so actions branch on
`code` and never parse a French message.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import aiohttp


class BackendError(Exception):
    """A backend answer with an error code (or "unavailable" when it could not be reached)."""

    def __init__(self, code: str, status: int, data: dict[str, Any] | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.status = status
        self.data = data or {}


STRUCTURE_SECONDS = 300.0


def with_numbers(structure: dict[str, Any], live: dict[str, Any]) -> dict[str, Any]:
    """A copy of the catalog `structure` carrying the numbers and the season of `live`."""
    numbers = {int(s["id"]): s for s in live["sessions"]}

    def session(s: dict[str, Any]) -> dict[str, Any]:
        n = numbers[int(s["id"])]
        free = {o["code"]: o["available"] for o in n["options"]}
        return {
            **s,
            "capacity": n["capacity"],
            "available": n["available"],
            "waitlist_length": n["waitlist_length"],
            "options": [{**o, "available": free.get(o["code"], 0)} for o in s["options"]],
        }

    return {
        **structure,
        "season": live["season"],
        "programs": [
            {**p, "groups": [{**g, "sessions": [session(s) for s in g["sessions"]]}
                             for g in p["groups"]]}
            for p in structure["programs"]
        ],
    }


class Backend:
    def __init__(
        self, base_url: str | None = None, secret: str | None = None, timeout: float = 10.0
    ) -> None:
        self.base_url = (base_url or os.environ.get("BACKEND_URL", "http://127.0.0.1:8000")).rstrip(
            "/"
        )
        self.secret = secret or os.environ.get("SERVICE_SECRET", "dev-service-secret")
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._cache: dict[tuple[str, str | None], tuple[float, Any]] = {}
        # (read at, the catalog without its numbers, its session ids): see `catalog`
        self._structure: tuple[float, dict[str, Any], frozenset[int]] | None = None

    async def _http(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
            self._loop = loop
        return self._session

    async def aclose(self) -> None:
        """Close the pooled connections (the action server calls this when it stops)."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json: Any = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        headers = {"Authorization": f"Bearer {self.secret}"}
        if token:
            headers["X-Family-Token"] = token
        http = await self._http()
        try:
            async with http.request(
                method, self.base_url + path, json=json, params=params, headers=headers
            ) as resp:
                body = await resp.json(content_type=None) if resp.content_length != 0 else None
                if resp.status >= 400:
                    error = (body or {}).get("error", {}) if isinstance(body, dict) else {}
                    raise BackendError(error.get("code", "unavailable"), resp.status, error)
                return body
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise BackendError("unavailable", 0, {"detail": str(exc)}) from exc

    async def _cached(
        self, key: tuple[str, str | None], ttl: float, path: str, token: str | None
    ) -> Any:
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit and now - hit[0] < ttl:
            return hit[1]
        value = await self.request("GET", path, token=token)
        self._cache[key] = (now, value)
        return value

    def forget(self, token: str | None) -> None:
        """Drop a family's cached views after a change of theirs (the catalog's numbers are
        never cached: `catalog`)."""
        for key in [k for k in self._cache if k[1] == token]:
            self._cache.pop(key, None)

    # ------------------------------------------------------------------ identification
    async def identify_start(self, client_number: str, phone: str) -> dict[str, Any]:
        return await self.request(
            "POST", "/api/identify/start", json={"client_number": client_number, "phone": phone}
        )

    async def identify_verify(self, challenge_id: str, code: str) -> dict[str, Any]:
        return await self.request(
            "POST", "/api/identify/verify", json={"challenge_id": challenge_id, "code": code}
        )

    async def identify_resend(self, challenge_id: str) -> dict[str, Any]:
        return await self.request(
            "POST", "/api/identify/resend", json={"challenge_id": challenge_id}
        )

    async def identify_phone(self, phone: str) -> dict[str, Any]:
        return await self.request("POST", "/api/identify/phone", json={"phone": phone})

    async def identify_widget(self, widget_token: str) -> dict[str, Any]:
        return await self.request(
            "POST", "/api/identify/widget", json={"widget_token": widget_token}
        )

    async def revoke_session(self, token: str) -> dict[str, Any]:
        """Sign out: the backend refuses this token from now on; nothing of it stays cached."""
        self.forget(token)
        try:
            return await self.request("POST", "/api/family/session/revoke", token=token)
        finally:
            self.forget(token)

    # ------------------------------------------------------------------ family, season, catalog
    async def family(self, token: str) -> dict[str, Any]:
        return await self._cached(("family", token), 30.0, "/api/family", token)

    async def health_links(self, token: str) -> dict[str, Any]:
        """A fresh signed link to each child's fiche santé (never cached: each is new)."""
        return await self.request("POST", "/api/family/health-links", token=token)

    async def season(self, token: str | None = None) -> dict[str, Any]:
        return await self._cached(("season", token), 30.0, "/api/season", token)

    async def catalog(self, token: str | None = None) -> dict[str, Any]:
        """The whole catalog (`GET /api/catalog`'s shape) with the numbers of this very moment.

        Availability changes every second on registration night, so the numbers (places free
        and waiting, per week and option) are asked for on every call, a small answer. The
        structure they fill (programs, groups, weeks, prices: the same for every family) is
        read again only when the numbers name other weeks or another season, or after
        STRUCTURE_SECONDS (a price the city corrects mid-season)."""
        live = await self.request("GET", "/api/catalog/availability", token=token)
        ids = frozenset(int(s["id"]) for s in live["sessions"])
        kept = self._structure
        if (
            kept is None
            or kept[2] != ids
            or kept[1]["season"]["id"] != live["season"]["id"]
            or time.monotonic() - kept[0] > STRUCTURE_SECONDS
        ):
            full = await self.request("GET", "/api/catalog")
            kept = (time.monotonic(), full, frozenset(
                int(s["id"]) for p in full["programs"] for g in p["groups"] for s in g["sessions"]
            ))
            self._structure = kept
        return with_numbers(kept[1], live)

    # ------------------------------------------------------------------ help-desk facts
    async def facts(self) -> dict[str, Any]:
        return await self._cached(("facts", None), 60.0, "/api/facts", None)

    async def quote(self, params: dict[str, Any]) -> dict[str, Any]:
        return await self.request("GET", "/api/quote", params=params)

    # ------------------------------------------------------------------ cart and checkout
    async def cart(self, token: str) -> dict[str, Any]:
        return await self.request("GET", "/api/cart", token=token)

    async def add_lines(self, token: str, payload: dict[str, Any]) -> dict[str, Any]:
        result = await self.request("POST", "/api/cart/lines", token=token, json=payload)
        self.forget(token)
        return result

    async def delete_line(self, token: str, line_id: int) -> dict[str, Any]:
        result = await self.request("DELETE", f"/api/cart/lines/{line_id}", token=token)
        self.forget(token)
        return result

    async def patch_line(self, token: str, line_id: int, payload: dict[str, Any]) -> dict[str, Any]:
        result = await self.request(
            "PATCH", f"/api/cart/lines/{line_id}", token=token, json=payload
        )
        self.forget(token)
        return result

    async def replace_line(
        self, token: str, line_id: int, session_id: int, join_waitlist: bool = False
    ) -> dict[str, Any]:
        """One week for another in one transaction: the new place is held before the old one
        is released; a full new week answers 409 `session_full` (or, with join_waitlist, holds
        a waitlist entry) and the old line stays."""
        body: dict[str, Any] = {"session_id": session_id}
        if join_waitlist:
            body["join_waitlist"] = True
        result = await self.request(
            "POST", f"/api/cart/lines/{line_id}/replace", token=token, json=body
        )
        self.forget(token)
        return result

    async def terms(self, token: str) -> dict[str, Any]:
        return await self.request("GET", "/api/checkout/terms", token=token)

    async def checkout(self, token: str, payload: dict[str, Any]) -> dict[str, Any]:
        return await self.request("POST", "/api/checkout", token=token, json=payload)

    # ------------------------------------------------------------------ the waiting room
    async def join_waiting_room(self, token: str, notify: dict[str, str]) -> dict[str, Any]:
        """The family's place in line (the same one when it has one); `notify` names the
        conversation the admission message is pushed to."""
        return await self.request("POST", "/api/waiting-room/join", token=token, json=notify)

    # ------------------------------------------------------------------ the family's own state
    async def family_status(self, token: str) -> dict[str, Any]:
        """Each child's registrations, the orders and what is still due (never cached: the
        help desk answers from the state of this very moment)."""
        return await self.request("GET", "/api/family/status", token=token)

    async def renew_link(self, token: str, order_id: int) -> dict[str, Any]:
        return await self.request("POST", f"/api/orders/{order_id}/link", token=token)

    async def cancellation_quote(self, token: str, line_id: int) -> dict[str, Any]:
        """What cancelling the line would refund (`refund_cents`, `fee_cents`,
        `still_due_cancelled_cents`): nothing changes."""
        return await self.request(
            "GET", f"/api/family/lines/{line_id}/cancellation", token=token
        )

    async def cancel_line(self, token: str, line_id: int) -> dict[str, Any]:
        result = await self.request("POST", f"/api/family/lines/{line_id}/cancel", token=token)
        self.forget(token)
        return result


backend = Backend()
