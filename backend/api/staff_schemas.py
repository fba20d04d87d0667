"""Request and response schemas of the staff routes (the OpenAPI document, docs/API.md)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from backend.api.schemas import Body, Id

Username = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
Password = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class StaffLogin(Body):
    username: Username
    password: Password


class AuditQuery(Body):
    limit: Annotated[int, Field(ge=1, le=500)] = 100
    action: Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,40}$")] | None = None
    family_id: Id | None = None
    before_id: Id | None = None


class RegistrationsExportQuery(Body):
    season_id: Id
    group_id: Id | None = None


class StaffIdentity(BaseModel):
    username: str
    role: str
    groups: list[int]


class StaffLoginResult(BaseModel):
    """The session itself is in the `staff_session` cookie (HttpOnly); the page keeps the CSRF
    token and sends it in `X-CSRF-Token` with every change."""

    staff: StaffIdentity
    csrf_token: str
    expires_at: str


class LoggedOut(BaseModel):
    logged_out: bool


class StaffErrorBody(BaseModel):
    code: str = Field(description="staff_unauthorized, staff_forbidden, staff_csrf, …")
    message: str


class StaffError(BaseModel):
    error: StaffErrorBody


class AuditEntryView(BaseModel):
    id: int
    at: str
    actor: str
    via: str
    action: str
    target_type: str
    target_id: str
    family_id: int | None
    detail: dict[str, Any]


class AuditList(BaseModel):
    entries: list[AuditEntryView]


class FamilyFile(BaseModel):
    family: dict[str, Any] = Field(description="`<Family>`: masked contacts, no health data")
    cart: dict[str, Any]
    orders: list[dict[str, Any]]


class HealthView(BaseModel):
    allergies: str
    medication: str
    glasses: bool
    emergency_contact_name: str
    emergency_contact_phone: str


class RosterChild(BaseModel):
    id: int
    first_name: str
    last_name: str
    birth_date: str
    sessions: list[int] = Field(description="week (or term) numbers the child is registered in")
    health: HealthView | None


class Roster(BaseModel):
    group_id: int
    label: str
    children: list[RosterChild]


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inline(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def schema(model: type[BaseModel]) -> dict[str, Any]:
    """`{"application/json": <JSON schema>}` with nested models inlined: a `#/$defs/…`
    reference would not resolve inside the OpenAPI document."""
    raw = model.model_json_schema()
    return {"application/json": _inline(raw, raw.get("$defs", {}))}
