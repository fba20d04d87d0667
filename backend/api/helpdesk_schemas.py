"""Request bodies and answers of the help desk routes: the line and callback requests, and a
new family file opened by chat (docs/API.md, "Help desk", "New family file")."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from backend.api.responses import Family
from backend.api.schemas import NO_NUL, Body, Phone
from backend.domain.callbacks import MAX_FIRST_NAME

Name = Annotated[str, StringConstraints(min_length=1, max_length=80, pattern=r"^[^\x00\d]+$")]
Email = Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s\x00]+@[^@\s\x00]+$")]
Key = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=NO_NUL)]
Word = Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,30}$")]


class HelpDesk(BaseModel):
    phone: str
    hours: str
    open: bool
    next_opening_at: str | None  # naive UTC ISO; None when no weekday has hours


class CallbackBody(Body):
    topic: Word
    step: Word
    child_first_name: Annotated[str, StringConstraints(max_length=MAX_FIRST_NAME)] | None = None
    phone: Phone | None = None  # required without a family token


class Callback(BaseModel):
    id: int
    status: Literal["open", "closed"]
    phone: str
    topic: str
    step: str
    child_first_name: str | None
    client_number: str | None
    payer_name: str | None
    created_at: str
    expected_at: str
    closed_at: str | None
    closed_by: str | None


class CallbackQuery(Body):
    include_closed: Annotated[bool, Field(strict=False)] = False


class SignupStart(Body):
    phone: Phone | None = None
    email: Email | None = None


class SignupChallenge(BaseModel):
    challenge_id: str
    channel: Literal["sms", "email"]


class SignupVerify(Body):
    challenge_id: Key
    code: Annotated[str, StringConstraints(min_length=1, max_length=20, pattern=NO_NUL)]


class SignupVerified(BaseModel):
    existing: Literal["none", "one", "several"]
    channel: Literal["sms", "email"]
    family_token: str | None = None
    family: Family | None = None


class NewChild(Body):
    first_name: Name
    last_name: Name | None = None
    birth_date: Annotated[date, Field(strict=False)]


class SignupFamily(Body):
    challenge_id: Key
    first_name: Name
    last_name: Name
    address: Annotated[str, StringConstraints(min_length=5, max_length=200, pattern=NO_NUL)]
    phone: Phone | None = None
    email: Email | None = None
    children: Annotated[list[NewChild], Field(min_length=1, max_length=12)]


class SignupCreated(BaseModel):
    family_token: str
    family: Family
