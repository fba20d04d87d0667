"""Request bodies in, JSON answers out: strict parsing into pydantic models, French refusals
with the fields named, and the error response every route shares (docs/API.md "Errors")."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sanic import Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from backend.domain.errors import RegistrationError
from backend.i18n import error_message, field_message
from backend.settings import Settings

M = TypeVar("M", bound=BaseModel)


# --------------------------------------------------------------------------- errors


def jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return value


def error_response(
    settings: Settings, code: str, status: int, extra: Mapping[str, Any] | None = None
) -> HTTPResponse:
    extra = dict(extra or {})
    fields = extra.get("fields")
    if isinstance(fields, Mapping):
        # Services may name a problem with a word ("required"); the parent reads a sentence.
        extra["fields"] = {
            str(name): field_message(_FIELD_WORDS.get(str(problem), "invalid"))
            if " " not in str(problem)
            else str(problem)
            for name, problem in fields.items()
        }
    message = error_message(
        code, extra, city_phone=settings.city_phone, city_hours=settings.city_hours
    )
    body = {"error": {"code": code, "message": message, **jsonable(extra)}}
    return json_response(body, status=status, ensure_ascii=False)


_FIELD_WORDS = {
    "required": "missing",
    "missing": "missing",
    "too_long": "too_long",
    "bad_date": "bad_date",
    "bad_phone": "bad_phone",
    "bad_number": "bad_number",
}


def invalid(fields: Mapping[str, str]) -> RegistrationError:
    return RegistrationError("invalid_request", fields=dict(fields))


# --------------------------------------------------------------------------- parsing

_FIELD_KINDS = {
    "missing": "missing",
    "string_too_long": "too_long",
    "int_parsing": "bad_number",
    "int_type": "bad_number",
    "int_from_float": "bad_number",
    "date_parsing": "bad_date",
    "date_from_datetime_parsing": "bad_date",
    "datetime_parsing": "bad_date",
    "datetime_from_date_parsing": "bad_date",
    "date_type": "bad_date",
    "datetime_type": "bad_date",
}


def _fields(error: ValidationError) -> dict[str, str]:
    fields: dict[str, str] = {}
    for item in error.errors():
        name = ".".join(str(p) for p in item["loc"]) or "body"
        fields.setdefault(name, field_message(_FIELD_KINDS.get(item["type"], "invalid")))
    return fields


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def loads(raw: bytes) -> Any:
    """Strict JSON: NaN and Infinity refused, nesting deeper than the parser can go refused
    (RecursionError), never a 500. Raises ValueError."""
    try:
        return json.loads(raw, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def parse_json(request: Request) -> dict[str, Any]:
    try:
        data = loads(request.body or b"")
    except (ValueError, UnicodeDecodeError):
        raise invalid({"body": field_message("not_json")}) from None
    if not isinstance(data, dict):
        raise invalid({"body": field_message("not_json")})
    return data


def parse(request: Request, model: type[M]) -> M:
    data = parse_json(request)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise invalid(_fields(error)) from None


def parse_query(request: Request, model: type[M]) -> M:
    data = {key: request.args.get(key) for key in request.args}
    try:
        # a query string is text: "5" is the number 5 there, whatever the model's strictness
        return model.model_validate(data, strict=False)
    except ValidationError as error:
        raise invalid(_fields(error)) from None


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, set | frozenset):
        return list(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


def dumps(body: Any) -> str:
    """JSON text of a service's answer. Services already give ISO strings for nearly every
    date: the encoder converts what is left as it meets it instead of copying the whole
    answer first (`jsonable`, kept for the odd key that is not a string)."""
    try:
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=_json_default)
    except TypeError:
        return json.dumps(jsonable(body), ensure_ascii=False, separators=(",", ":"))


def ok(body: Any, status: int = 200) -> HTTPResponse:
    return HTTPResponse(dumps(body), status=status, content_type="application/json")


