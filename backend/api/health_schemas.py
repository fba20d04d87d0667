"""Schemas of the fiche santé routes (the OpenAPI document, docs/API.md, docs/HEALTH.md)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class HealthLinkItem(BaseModel):
    child_id: int
    first_name: str
    url: str = Field(description="/sante/<token>: this child's form, signed, until expires_at")
    expires_at: str
    complete: bool = Field(description="contact and every authorisation answered")


class HealthLinks(BaseModel):
    children: list[HealthLinkItem]


class ChildHealth(BaseModel):
    allergies: str
    epipen: bool
    medication: str
    conditions: str
    glasses: bool
    insurance_number: str | None
    insurance_expiry: str | None = Field(description="MM/AAAA")
    emergency_contact_name: str
    emergency_contact_relation: str
    emergency_contact_phone: str
    second_contact_name: str
    second_contact_phone: str
    may_give_first_aid: bool | None
    may_photograph: bool | None
    may_leave_alone: bool | None
    complete: bool
    updated_at: str | None


class ChildHealthFile(BaseModel):
    child_id: int
    first_name: str
    last_name: str
    birth_date: str
    health: ChildHealth | None


class HealthFormFields(BaseModel):
    """The page's form (application/x-www-form-urlencoded); every field is text."""

    allergies: str = ""
    epipen: str = Field("", description="oui | non")
    medication: str = ""
    conditions: str = ""
    glasses: str = Field("", description="oui when checked")
    insurance_number: str = Field(
        "", description="4 letters, 8 digits; empty keeps the one on file"
    )
    insurance_expiry: str = Field("", description="MM/AAAA")
    contact_name: str = ""
    contact_relation: str = ""
    contact_phone: str = ""
    second_name: str = ""
    second_phone: str = ""
    first_aid: str = Field("", description="oui | non")
    photos: str = Field("", description="oui | non")
    leave_alone: str = Field("", description="oui | non")
