"""Bodies and answers of the waiting-room routes (docs/API.md "Waiting room")."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from backend.adapters.clock import from_local
from backend.api.schemas import Body, Id

Rate = Annotated[float, Field(ge=0, le=10_000, strict=False)]
Cap = Annotated[int, Field(ge=1, le=100_000)]


class JoinWaitingRoom(Body):
    season_id: Id | None = None
    # The conversation to tell of the admission (the Rasa conversation id, never a phone) and
    # its channel; without it, the family's phone on file is texted only.
    conversation: Annotated[str, Field(pattern=r"^(web|sms)_[0-9a-f]{8,48}$")] | None = None
    channel: Literal["web", "sms"] | None = None


class OpenRush(Body):
    season_id: Id
    # Naive values are the city's wall-clock time ("2027-04-20T19:00:00" = 19 h in Québec).
    opens_at: Annotated[datetime, Field(strict=False)]
    rate_per_minute: Rate
    cap: Cap

    def opens_at_utc(self) -> datetime:
        if self.opens_at.tzinfo is not None:
            return self.opens_at.astimezone(UTC).replace(tzinfo=None)
        return from_local(self.opens_at)


class RushLimits(Body):
    rate_per_minute: Rate | None = None
    cap: Cap | None = None


class Simulate(Body):
    families: Annotated[int, Field(ge=1, le=20_000)]


class RushSummary(BaseModel):
    id: int
    season_id: int
    state: Literal["open", "paused", "closed"]
    phase: Literal["pre_queue", "running", "paused", "closed"]
    opens_at: str
    rate_per_minute: float
    cap: int
    drawn: bool


class Place(BaseModel):
    """Where a family stands. `position` (1 = next let in) and `estimated_wait_minutes` while it
    waits in a drawn line; in the pre-queue both are null until the opening's draw."""

    rush: RushSummary | None
    admission_required: bool
    status: Literal["waiting", "admitted", "finished", "not_in_line", "no_waiting_room"]
    position: int | None = None
    estimated_wait_minutes: int | None = None


class RushStatus(RushSummary):
    pre_queue: int
    waiting: int
    registering: int
    admitted_per_minute: float
    estimated_wait_minutes: int | None
    drawn_at: str | None
