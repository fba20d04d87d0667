"""What GET /api/facts and GET /api/quote answer (pydantic models for the OpenAPI document)."""

from __future__ import annotations

from pydantic import BaseModel


class CityLine(BaseModel):
    name: str
    phone: str
    hours: dict[str, list[str]]  # ISO weekday → [opens, closes], city time ("08:30")


class CityUrls(BaseModel):
    portal: str
    password_reset: str
    spam_help: str
    profile_help: str
    calendar_help: str


class SeasonDates(BaseModel):
    name: str
    year: int
    residents_open_at: str
    nonresidents_open_at: str
    closes_at: str
    releve24_by: str


class RefundPolicy(BaseModel):
    """What a cancelled registration gives back: what was paid less `fee_cents`, when cancelled at
    least `deadline_days` before its first day (null: up to the day before)."""

    fee_cents: int
    deadline_days: int | None


class CityPolicies(BaseModel):
    hold_minutes: int
    pay_link_minutes: int
    offer_hours: int
    two_installments_min_cents: int
    first_installment_percent: int
    refunds: RefundPolicy
    resident_proofs: list[str]
    what_to_bring: list[str]
    browsers: list[str]


class Facts(BaseModel):
    city: CityLine
    urls: CityUrls
    season: SeasonDates
    policies: CityPolicies


class Quote(BaseModel):
    program_id: int
    program: str
    per_week: bool
    weeks: int
    options: list[str]
    not_offered: list[str]
    resident_cents: int
    nonresident_cents: int
    total_cents: int | None = None
