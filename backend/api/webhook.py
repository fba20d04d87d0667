"""The payment gateway's signed webhook: verified on the raw body, then handed to the
payments service, which deduplicates on the event id (replays and retries change nothing)."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from backend.adapters.local_gateway import SIGNATURE_HEADER, verify_signature
from backend.api.common import invalid, loads, ok, state
from backend.api.openapi_doc import GATEWAY, documented
from backend.api.responses import WebhookReceived
from backend.domain.errors import RegistrationError
from backend.i18n import field_message
from backend.services import payments

bp = Blueprint("gateway_webhook", url_prefix="/api/gateway")

MAX_AMOUNT_CENTS = 10**9  # ten million dollars: anything above is not a real payment


def _text(value: Any, limit: int = 64) -> str:
    """An id from the event: a non-empty string that fits the database's columns."""
    if not isinstance(value, str) or not value or len(value) > limit:
        raise ValueError("id")
    return value


def _optional(value: Any, limit: int = 64) -> str | None:
    return None if value is None else _text(value, limit)


@bp.post("/webhook")
@openapi.summary("Gateway events (signed): checkout.completed, checkout.failed, charge.*")
@openapi.body({"application/json": {"type": "object"}}, required=True)
@documented(WebhookReceived, refusals=(401, 409, 422), auth=GATEWAY)
async def webhook(request: Request) -> HTTPResponse:
    st = state(request)
    raw = request.body or b""
    header = request.headers.get(SIGNATURE_HEADER)
    if not verify_signature(raw, header, st.settings.gateway_webhook_secret, st.clock.now()):
        raise RegistrationError("unauthorized")
    try:
        event = loads(raw)
        event_id = _text(event["id"])
        kind = _text(event["type"])
        data: dict[str, Any] = dict(event.get("data") or {})
        if kind == "checkout.completed":
            session_id, charge_id = _text(data["session_id"]), _text(data["charge_id"])
            amount = data["amount_cents"]
            if not isinstance(amount, int) or isinstance(amount, bool):
                raise TypeError("amount_cents")
            if not 0 <= amount <= MAX_AMOUNT_CENTS:
                raise ValueError("amount_cents")
            card_token = _optional(data.get("card_token"))
            card_last4 = _optional(data.get("card_last4"), limit=4)
        elif kind == "checkout.failed":
            session_id = _text(data["session_id"])
            decline = _optional(data.get("decline_code"))
    except (ValueError, KeyError, TypeError, AttributeError):
        # Signed by the gateway but not an event we can read: refused, nothing recorded.
        raise invalid({"body": field_message("not_json")}) from None

    if kind == "checkout.completed":
        result = await st.db(
            lambda db: payments.on_checkout_completed(
                db,
                event_id=event_id,
                gateway_session_id=session_id,
                charge_id=charge_id,
                card_token=card_token,
                card_last4=card_last4,
                amount_cents=amount,
                clock=st.clock,
                settings=st.settings,
                gateway=st.gateway,
            )
        )
    elif kind == "checkout.failed":
        result = await st.db(
            lambda db: payments.on_checkout_failed(
                db,
                event_id=event_id,
                gateway_session_id=session_id,
                decline_code=decline,
                clock=st.clock,
                settings=st.settings,
            )
        )
    else:
        # charge.succeeded / charge.failed: saved-card charges are decided synchronously by
        # the installment job; the event is only remembered.
        seen = await st.db(
            lambda db: payments.record_event(db, event_id=event_id, kind=kind, clock=st.clock)
        )
        result = {"duplicate": not seen}
    return ok({"received": True, "result": result})
