"""The OpenAPI document's operations: request bodies, query parameters and responses from the
pydantic models of schemas.py and responses.py, written the way OpenAPI 3.0 reads them
(references inlined, `null` as `nullable`), so that what the document allows is exactly what
the validation accepts."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel
from sanic_ext import openapi
from sanic_ext.extensions.openapi.builders import SpecificationBuilder
from sanic_ext.extensions.openapi.definitions import Parameter
from sanic_ext.extensions.openapi.types import Schema

from backend.api.responses import ErrorBody

F = TypeVar("F", bound=Callable[..., Any])

# The credentials of docs/API.md, as OpenAPI security schemes.
SERVICE = ("service",)
FAMILY = ("service", "family")
GATEWAY = ("gateway",)


def declare_security(spec: SpecificationBuilder) -> None:
    spec.add_security_scheme(
        "service", "http", scheme="bearer", description="SERVICE_SECRET: action server, channels"
    )
    spec.add_security_scheme(
        "family",
        "apiKey",
        location="header",
        name="X-Family-Token",
        description="a family token from the identification routes",
    )
    spec.add_security_scheme(
        "gateway",
        "apiKey",
        location="header",
        name="Stripe-Signature",
        description='Stripe: "t=<unix>,v1=<hex hmac-sha256 of t.body>" with STRIPE_WEBHOOK_SECRET',
    )


# Why a route may refuse, per status (the codes are those of docs/API.md).
REFUSALS: Mapping[int, str] = {
    400: "the body is not JSON",
    401: "unauthorized: a missing or wrong service secret or family token",
    402: "the card was declined",
    403: "account_pending, account_locked",
    404: "not_found",
    409: "a registration rule (session_full, not_eligible, cart_empty, already_cancelled…) "
    "or conflict",
    410: "code_expired, payment_link_expired",
    422: "invalid_request (with `fields`), code_invalid, terms_not_accepted",
    423: "challenge_locked",
    429: "rate_limited (Retry-After), resend_limit",
    503: "the database does not answer",
}


def _inline(node: Any, defs: Mapping[str, Any]) -> Any:
    if isinstance(node, list):
        return [_inline(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _inline(defs[node["$ref"].rsplit("/", 1)[-1]], defs)
    out = {k: _inline(v, defs) for k, v in node.items() if k != "$defs"}
    choices = out.get("anyOf")
    if isinstance(choices, list) and {"type": "null"} in choices:
        rest = [c for c in choices if c != {"type": "null"}]
        del out["anyOf"]
        merged = rest[0] if len(rest) == 1 else {"anyOf": rest}
        out = {**merged, **out, "nullable": True}
    if "const" in out:
        out["enum"] = [out.pop("const")]
    return out


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with its `$defs` inlined and nulls as OpenAPI 3.0 `nullable`."""
    raw = model.model_json_schema()
    inlined: dict[str, Any] = _inline(raw, raw.get("$defs", {}))
    return inlined


def _query_parameters(model: type[BaseModel]) -> list[Parameter]:
    schema = json_schema(model)
    required = set(schema.get("required", []))
    return [
        # A Schema object, not a dict: sanic-ext would read a dict as an object's properties.
        Parameter(name, Schema(**prop), "query", required=name in required)  # type: ignore[no-untyped-call]
        for name, prop in schema.get("properties", {}).items()
    ]


def documented(
    answer: type[BaseModel] | None,
    *,
    refusals: Iterable[int] = (),
    status: int = 200,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    html: bool = False,
    form: bool = False,
    list_of: bool = False,
    auth: tuple[str, ...] = (),
) -> Callable[[F], F]:
    """A route's request and every answer it may give: `answer` with `status`, the error body
    `{"error": {"code", "message", …}}` with each of `refusals`; `auth`, the credentials it
    needs all together (SERVICE, FAMILY, GATEWAY)."""

    def decorate(handler: F) -> F:
        # Each sanic-ext decorator may hand back a new function (openapi.body wraps): keep it.
        if body is not None:
            media = "application/x-www-form-urlencoded" if form else "application/json"
            handler = openapi.body({media: json_schema(body)}, required=True)(handler)
        for parameter in _query_parameters(query) if query is not None else []:
            handler = openapi.parameter(parameter=parameter)(handler)
        if html:
            handler = openapi.response(status, {"text/html": str}, "page")(handler)
        elif answer is not None:
            schema = json_schema(answer)
            if list_of:
                schema = {"type": "array", "items": schema}
            handler = openapi.response(status, {"application/json": schema}, "OK")(handler)
        if auth:
            handler = openapi.secured(*auth)(handler)
        for code in refusals:
            content = {"text/html": str} if html else {"application/json": json_schema(ErrorBody)}
            handler = openapi.response(code, content, REFUSALS[code])(handler)
        return handler

    return decorate
