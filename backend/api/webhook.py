"""Stripe's signed webhook: verified on the raw body by the gateway (wall-clock tolerance), then
handed to the payments service, which deduplicates on the event id (replays and retries change
nothing) and is order-independent. Events of other applications on the city's Stripe account
are recorded and ignored; a succeeded payment tagged by us that matches no installment is
refunded once the transaction is committed."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from backend.adapters.gateway import EventKind, GatewayError, PaymentEvent, WebhookRejected
from backend.api.common import invalid, ok, state
from backend.api.openapi_doc import GATEWAY, documented
from backend.api.responses import WebhookReceived
from backend.domain.errors import RegistrationError
from backend.i18n import field_message
from backend.services import installment_charges, payments

log = logging.getLogger(__name__)

bp = Blueprint("gateway_webhook", url_prefix="/api/gateway")

SIGNATURE_HEADER = "Stripe-Signature"


@bp.post("/webhook")
@openapi.summary("Stripe events (signed): payment_intent.succeeded, payment_intent.payment_failed")
@openapi.body({"application/json": {"type": "object"}}, required=True)
@documented(WebhookReceived, refusals=(401, 422), auth=GATEWAY)
async def webhook(request: Request) -> HTTPResponse:
    st = state(request)
    raw = request.body or b""
    header = request.headers.get(SIGNATURE_HEADER)
    try:
        event = st.gateway.parse_event(raw, header)
    except WebhookRejected:
        raise RegistrationError("unauthorized") from None
    except (ValueError, KeyError, TypeError, AttributeError):
        # Signed by Stripe but not an event we can read: refused, nothing recorded.
        raise invalid({"body": field_message("not_json")}) from None
    if event.kind == EventKind.PAYMENT_SUCCEEDED and event.payment is not None:
        paid = event.payment
        event = replace(
            event, payment=await st.run_sync(lambda: payments.with_card_digits(st.gateway, paid))
        )
    result = await st.db(lambda db: _handle(db, event, st))
    await st.send_refunds()
    if result.get("outcome") == "unknown_payment" and event.payment is not None:
        payment = event.payment
        try:
            await st.run_sync(lambda: installment_charges.refund_unknown(st.gateway, payment))
        except GatewayError as error:
            # Staff refund it from Stripe's dashboard; the log names the payment.
            log.error("payment %s not refunded (%s)", payment.id, error.kind)
    elif result.get("outcome") == "not_ours":
        log.info("event %s for a payment of another application: ignored", event.id)
    return ok({"received": True, "result": result})


def _handle(db: Any, event: PaymentEvent, st: Any) -> dict[str, Any]:
    if event.kind == EventKind.PAYMENT_SUCCEEDED and event.payment is not None:
        return payments.on_payment_succeeded(
            db,
            event_id=event.id,
            payment=event.payment,
            clock=st.clock,
            settings=st.settings,
        )
    if event.kind == EventKind.PAYMENT_FAILED and event.payment is not None:
        return payments.on_payment_failed(
            db, event_id=event.id, payment=event.payment, clock=st.clock
        )
    seen = payments.record_event(db, event_id=event.id[:64], kind="other", clock=st.clock)
    return {"outcome": "recorded" if seen else "duplicate"}
