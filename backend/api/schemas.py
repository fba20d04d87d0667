"""Request bodies and query strings (pydantic): anything else gets a French `invalid_request`
(422). The OpenAPI document is generated from these models, so every rule a value must follow is
written as a JSON-schema constraint (type, pattern, length, range), and bodies are strict (no
"3" for 3, no "true" for true): what the document allows is what is accepted."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

ClientNumber = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,20}$")]
# A North American number as people write it ("418-555-0101", "(418) 555-0101", "1 418 555 0101")
# or any number in E.164 ("+14185550101", "+33612345678"): what phones.normalize_phone reads.
PHONE_PATTERN = (
    r"^(\+[1-9][0-9]{7,14}|(\+?1[ .-]?)?\(?[2-9][0-9]{2}\)?[ .-]?[0-9]{3}[ .-]?[0-9]{4})$"
)
Phone = Annotated[str, StringConstraints(pattern=PHONE_PATTERN)]
Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
OptionCode = Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,20}$")]
TshirtSize = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{1,4}$")]
# Free text that is a key (a challenge id, a code): no NUL, which PostgreSQL cannot store.
NO_NUL = r"^[^\x00]*$"


class Clean(BaseModel):
    """No NUL character anywhere: PostgreSQL cannot store or even compare one (it would be a
    database error, a 500, instead of a French 422)."""

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        items = value if isinstance(value, list) else [value]
        if any(isinstance(item, str) and "\x00" in item for item in items):
            raise ValueError("NUL character")
        return value


class Body(Clean):
    model_config = ConfigDict(extra="ignore", str_max_length=200, strict=True)


class IdentifyStart(Body):
    client_number: ClientNumber
    phone: Phone


class IdentifyVerify(Body):
    challenge_id: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=NO_NUL)]
    code: Annotated[str, StringConstraints(min_length=1, max_length=20, pattern=NO_NUL)]


class IdentifyResend(Body):
    challenge_id: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=NO_NUL)]


class IdentifyPhone(Body):
    phone: Phone


class IdentifyWidget(Body):
    widget_token: Annotated[str, StringConstraints(min_length=1, max_length=512, pattern=NO_NUL)]
    model_config = ConfigDict(extra="ignore", str_max_length=512)


class AddLines(Body):
    child_id: Id
    session_ids: Annotated[list[Id], Field(min_length=1, max_length=20)]
    options: Annotated[list[OptionCode], Field(max_length=5)] = []
    tshirt_size: TshirtSize | None = None
    join_waitlist: bool = False


class ReplaceLine(Body):
    session_id: Id
    join_waitlist: bool = False


class UpdateLine(Body):
    options: Annotated[list[OptionCode], Field(max_length=5)] | None = None
    tshirt_size: TshirtSize | None = None


class Checkout(Body):
    installments: Literal[1, 2]
    accept_terms: bool
    card_on_file_consent: bool = False
    idempotency_key: (
        Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=NO_NUL)] | None
    ) = None

    @field_validator("installments", mode="before")
    @classmethod
    def _not_a_bool(cls, value: Any) -> Any:
        # true == 1 in Python: a literal 1 or 2 would otherwise take a JSON boolean.
        if isinstance(value, bool):
            raise ValueError("installments is a number")
        return value


class PhoneOnly(Body):
    phone: Phone


class Capacity(Body):
    capacity: Annotated[int, Field(ge=0, le=10_000)]


class PaymentMode(Body):
    payment_mode: Literal["normal", "deferred"]


class SetClock(Body):
    # Naive values are the city's wall-clock time ("2027-04-20T19:00:00" = 19 h in Québec).
    now: Annotated[datetime, Field(strict=False)] | None = None
    advance_minutes: Annotated[int, Field(ge=-525_600, le=525_600)] | None = None


class EligibleQuery(Clean):
    child_id: Id


class OutboxQuery(Clean):
    recipient: Annotated[str, StringConstraints(max_length=254, pattern=NO_NUL)] | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 50


class SmsStatusQuery(Clean):
    phone: Phone


class PaySetup(BaseModel):
    """The hosted page's card-setup session, confirmed in the browser by Stripe.js."""

    setup_id: str


class PayDone(BaseModel):
    """The payment whose authentication step the page just ran."""

    payment_id: str


class DemoLogin(BaseModel):
    client_number: str


class QuoteQuery(Clean):
    activity: Id  # the program's id (GET /api/catalog)
    weeks: Annotated[int, Field(ge=1, le=20)] = 1
    garde: bool = False
    velo: bool = False
    resident: bool | None = None
