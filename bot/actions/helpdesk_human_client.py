"""The help desk's routes of the backend (docs/API.md, "Help desk", "New family file"),
through the one HTTP client of the action server."""

from __future__ import annotations

from typing import Any

from .backend_client import backend


async def help_desk() -> dict[str, Any]:
    """`{"phone", "hours", "open", "next_opening_at"}`: asked each time (the hour moves)."""
    return dict(await backend.request("GET", "/api/helpdesk"))


async def request_callback(
    token: str | None, *, topic: str, step: str, child: str | None, phone: str | None
) -> dict[str, Any]:
    body: dict[str, Any] = {"topic": topic, "step": step}
    if child:
        body["child_first_name"] = child
    if phone and not token:
        body["phone"] = phone
    return dict(await backend.request("POST", "/api/helpdesk/callbacks", token=token, json=body))


async def family_now(token: str) -> dict[str, Any]:
    """The family file as it is now (the status may have changed a second ago): not cached."""
    backend.forget(token)
    return dict(await backend.request("GET", "/api/family", token=token))


async def signup_start(*, phone: str | None = None, email: str | None = None) -> dict[str, Any]:
    body = {"phone": phone} if phone else {"email": email}
    return dict(await backend.request("POST", "/api/signup/start", json=body))


async def signup_verify(challenge_id: str, code: str) -> dict[str, Any]:
    return dict(
        await backend.request(
            "POST", "/api/signup/verify", json={"challenge_id": challenge_id, "code": code}
        )
    )


async def signup_family(body: dict[str, Any]) -> dict[str, Any]:
    return dict(await backend.request("POST", "/api/signup/family", json=body))
