"""Payment terms, checkout and orders (family token)."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from backend.api.app_state import state
from backend.api.bodies import ok, parse
from backend.api.guards import family_only
from backend.api.openapi_doc import FAMILY, documented
from backend.api.responses import LinkedOrder, Order, PlacedOrder, Terms
from backend.api.schemas import Checkout
from backend.services import checkout, pay_link

bp = Blueprint("checkout", url_prefix="/api")


@bp.get("/checkout/terms")
@openapi.summary("Payable total, allowed installment counts and both payment plans")
@documented(Terms, refusals=(401, 404), auth=FAMILY)
@family_only
async def terms(request: Request) -> HTTPResponse:
    st = state(request)
    family_id: int = request.ctx.family_id
    view = await st.db(
        lambda db: checkout.terms_view(db, family_id, clock=st.clock, settings=st.settings),
        write=False,
    )
    return ok(view)


@bp.post("/checkout")
@openapi.summary("Place the order: payment link (also sent by SMS and courriel)")
@documented(PlacedOrder, status=201, body=Checkout, refusals=(401, 403, 404, 409, 422), auth=FAMILY)
@family_only
async def place_order(request: Request) -> HTTPResponse:
    body = parse(request, Checkout)
    st = state(request)
    family_id: int = request.ctx.family_id
    result = await st.db(
        lambda db: checkout.checkout(
            db,
            family_id,
            installments=body.installments,
            accept_terms=body.accept_terms,
            card_on_file_consent=body.card_on_file_consent,
            idempotency_key=body.idempotency_key,
            clock=st.clock,
            settings=st.settings,
            gateway=st.gateway,
        )
    )
    return ok(result, status=201)


@bp.get("/orders/<order_id:int>")
@openapi.summary("One of the family's orders: status, paid and due amounts, installments, lines")
@documented(Order, refusals=(401, 404), auth=FAMILY)
@family_only
async def get_order(request: Request, order_id: int) -> HTTPResponse:
    st = state(request)
    family_id: int = request.ctx.family_id
    view = await st.db(lambda db: checkout.order_view(db, family_id, order_id), write=False)
    return ok(view)


@bp.post("/orders/<order_id:int>/link")
@openapi.summary("A new payment link for an order still owing (also sent by SMS and courriel)")
@documented(LinkedOrder, refusals=(401, 404, 409), auth=FAMILY)
@family_only
async def renew_link(request: Request, order_id: int) -> HTTPResponse:
    st = state(request)
    family_id: int = request.ctx.family_id
    view = await st.db(
        lambda db: pay_link.renew_link(
            db, family_id, order_id, clock=st.clock, settings=st.settings, gateway=st.gateway
        )
    )
    return ok(view)
