"""What each route answers (pydantic models of docs/API.md), for the OpenAPI document only:
the services build plain dicts, and the schemathesis run checks them against these shapes.
Extra keys are allowed (a caller must ignore what it does not know)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    """Every refusal; `error` may carry more keys (`fields`, `opens_at`, `attempts_left`…)."""

    error: ErrorDetail


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "error"]
    demo_mode: bool


class Challenge(BaseModel):
    """The same answer whether or not the pair matched and wherever the code went."""

    challenge_id: str


class Child(BaseModel):
    id: int
    first_name: str
    last_name: str
    birth_date: str
    age_at_reference: int
    tshirt_size: str | None
    has_health_record: bool


class Family(BaseModel):
    client_number: str
    resident: bool
    status: Literal["approved", "pending", "locked"]
    payer_name: str | None
    phone_masked: str
    email_masked: str
    children: list[Child]


class Verified(BaseModel):
    family_token: str
    family: Family


class PhoneMatch(BaseModel):
    match: Literal["one", "several", "none"]
    family_token: str | None = None
    family: Family | None = None


class Season(BaseModel):
    id: int
    name: str
    year: int
    reference_date: str
    residents_open_at: str
    nonresidents_open_at: str
    closes_at: str
    payment_mode: Literal["normal", "deferred"]
    open_for_family: bool | None = None
    opens_for_family_at: str | None = None


class Site(BaseModel):
    id: int
    name: str


class SessionOption(BaseModel):
    code: str
    price_cents: int
    available: int


class CatalogSession(BaseModel):
    id: int
    number: int
    starts_on: str
    ends_on: str
    capacity: int
    available: int
    waitlist_length: int
    price_resident_cents: int
    price_nonresident_cents: int
    options: list[SessionOption]


class Group(BaseModel):
    id: int
    label: str
    site_id: int | None
    site: str | None
    level: int | None
    min_age: int
    max_age: int
    sessions: list[CatalogSession]


class Program(BaseModel):
    id: int
    name: str
    category: str
    needs_tshirt: bool
    groups: list[Group]


class Catalog(BaseModel):
    season: Season
    sites: list[Site]
    programs: list[Program]


class OptionNumbers(BaseModel):
    code: str
    available: int


class SessionNumbers(BaseModel):
    id: int
    capacity: int
    available: int
    waitlist_length: int
    options: list[OptionNumbers]


class Availability(BaseModel):
    season: Season
    sessions: list[SessionNumbers]


class EligibleChild(BaseModel):
    id: int
    first_name: str
    age_at_reference: int


class EligibleCatalog(Catalog):
    child: EligibleChild


class LineOptionPrice(BaseModel):
    code: str
    price_cents: int


class Line(BaseModel):
    id: int
    child_id: int
    child: str
    program: str
    category: str
    group: str
    site: str | None
    session_id: int
    week: int
    starts_on: str
    ends_on: str
    status: str
    waitlist_position: int | None
    hold_expires_at: str | None
    offer_expires_at: str | None
    options: list[LineOptionPrice]
    tshirt_size: str | None
    price_cents: int
    order_id: int | None


class Installments(BaseModel):
    allowed: list[int]
    refused_reason: str | None


class Cart(BaseModel):
    lines: list[Line]
    total_cents: int
    payable_cents: int
    installments: Installments


class LineResult(BaseModel):
    session_id: int
    outcome: Literal["held", "full", "waitlisted", "already_registered", "option_full"]
    week: int | None = None
    line_id: int | None = None
    waitlist_position: int | None = None
    option: str | None = None


class AddedLines(BaseModel):
    results: list[LineResult]
    cart: Cart


class ReplacedLine(Cart):
    """The cart after a replacement, with what became of the new session."""

    outcome: Literal["held", "waitlisted"]
    line_id: int
    replaced_line_id: int
    waitlist_position: int | None
    options_dropped: list[str]


class PlannedInstallment(BaseModel):
    seq: int
    due_on: str
    amount_cents: int


class Terms(BaseModel):
    payable_cents: int
    allowed: list[int]
    refused_reason: str | None
    plans: dict[str, list[PlannedInstallment]]
    payment_mode: Literal["normal", "deferred"]


class OrderInstallment(PlannedInstallment):
    status: str


class PlacedOrder(BaseModel):
    order_id: int
    status: Literal["awaiting_payment", "deferred", "paid", "partially_paid"]
    total_cents: int
    installments: list[OrderInstallment]
    payment_url: str | None
    pay_link_expires_at: str | None
    lines: list[Line]


class Order(BaseModel):
    id: int
    status: str
    total_cents: int
    paid_cents: int
    refunded_cents: int
    due_cents: int
    installments: list[OrderInstallment]
    lines: list[Line]


class LinkedOrder(Order):
    """An order with its payment link (`payment_url` is null in a deferred season)."""

    payment_url: str | None
    pay_link_expires_at: str | None


class StatusOrder(LinkedOrder):
    link_valid: bool
    created_at: str | None


class ChildStatus(BaseModel):
    id: int
    first_name: str
    lines: list[Line]


class Owed(BaseModel):
    order_id: int
    seq: int
    due_on: str | None
    amount_cents: int
    status: str


class Balance(BaseModel):
    due_cents: int
    installments: list[Owed]


class FamilyStatus(BaseModel):
    """Each child's live registrations, the family's orders (newest first), what is due."""

    children: list[ChildStatus]
    orders: list[StatusOrder]
    balance: Balance


class CancellationOutcome(BaseModel):
    """What cancelling a line does (now, for the preview): `fee_cents` is what the refund
    policy keeps, `still_due_cancelled_cents` what comes off the installments to come."""

    line: Line
    week_label: str
    refund_cents: int
    fee_cents: int
    still_due_cancelled_cents: int


class DueInstallment(BaseModel):
    seq: int
    due_on: str | None
    amount_cents: int


class Cancelled(CancellationOutcome):
    """The line (now `cancelled`), what was done, and what its order still asks."""

    cancelled_installments: list[DueInstallment]
    remaining_due: list[DueInstallment]


class WebhookReceived(BaseModel):
    received: bool


class PayResult(BaseModel):
    """`status`: paid, refunded, declined, requires_action (then `client_secret`), failed;
    `message`: the sentence the page shows."""

    status: str
    message: str
    client_secret: str | None = None


class Revoked(BaseModel):
    revoked: Literal[True]


class SmsStatus(BaseModel):
    phone: str
    opted_out: bool


class OutboxMessage(BaseModel):
    id: int
    channel: Literal["sms", "email"]
    recipient: str
    subject: str | None
    body: str
    kind: str
    status: str
    created_at: str


class ClockView(BaseModel):
    now: str
    utc: str


class WidgetToken(BaseModel):
    widget_token: str
    expires_in: int
