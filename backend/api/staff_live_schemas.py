"""The staff's live view of registration night (`GET /api/staff/live`, docs/STAFF.md "Live
view"): the response model of the OpenAPI document; the events stream sends the same object."""

from __future__ import annotations

from pydantic import BaseModel, Field

from backend.api.waiting_room_schemas import RushStatus


class LiveSeason(BaseModel):
    id: int
    name: str


class LiveSession(BaseModel):
    """One group-week (or a term's single session): a cell of the heat map."""

    id: int
    program_id: int
    program: str
    category: str
    group_id: int
    group: str
    site: str | None
    number: int = Field(description="week number (1 for a term)")
    starts_on: str
    ends_on: str
    capacity: int
    taken: int = Field(description="places held, offered or confirmed (expired holds left out)")
    fill_rate: float = Field(description="taken / capacity, 0..1 (above 1 if capacity was cut)")
    waitlist: int


class LiveTotals(BaseModel):
    capacity: int
    taken: int
    fill_rate: float
    full_sessions: int
    waitlist: int


class OrdersOfStatus(BaseModel):
    orders: int
    total_cents: int


class LivePayments(BaseModel):
    by_status: dict[str, OrdersOfStatus] = Field(
        description="order status (awaiting_payment, partially_paid, paid, deferred, …) -> "
        "how many orders and their total; a status with no order is absent"
    )
    received_cents: int = Field(description="installments paid")


class LiveSeries(BaseModel):
    """Per minute over the last 30 minutes (the current minute last)."""

    minutes: list[str] = Field(description="each minute's start, backend clock (UTC)")
    places_taken: list[int] = Field(description="lines created that minute that hold a place")
    payments: list[int] = Field(description="installments paid that minute")
    admissions: list[int] = Field(description="families let in from the waiting room")


class LiveView(BaseModel):
    season: LiveSeason
    at: str
    sessions: list[LiveSession]
    totals: LiveTotals
    waiting_room: RushStatus | None
    payments: LivePayments
    series: LiveSeries
