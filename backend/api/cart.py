"""The family's cart: holds, waitlist entries, offers."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from backend.api.app_state import state
from backend.api.bodies import ok, parse
from backend.api.guards import family_only
from backend.api.openapi_doc import FAMILY, documented
from backend.api.responses import AddedLines, Cart, ReplacedLine
from backend.api.schemas import AddLines, ReplaceLine, UpdateLine
from backend.services import cart, cart_replace

bp = Blueprint("cart", url_prefix="/api/cart")


@bp.get("")
@openapi.summary("The family's cart")
@documented(Cart, refusals=(401, 404), auth=FAMILY)
@family_only
async def get_cart(request: Request) -> HTTPResponse:
    st = state(request)
    family_id: int = request.ctx.family_id
    view = await st.db(
        lambda db: cart.cart_view(db, family_id, clock=st.clock, settings=st.settings),
        write=False,
    )
    return ok(view)


@bp.post("/lines")
@openapi.summary("Hold places (or join the waitlist) for a child in one or more sessions")
@documented(AddedLines, body=AddLines, refusals=(401, 403, 404, 409, 422), auth=FAMILY)
@family_only
async def add_lines(request: Request) -> HTTPResponse:
    body = parse(request, AddLines)
    st = state(request)
    family_id: int = request.ctx.family_id
    # The places are decided in one short write transaction; the cart shown with them is read
    # just after its commit (other parents waiting for the same weeks do not wait for that).
    result, view = await st.db_then_read(
        lambda db: cart.add_lines(
            db,
            family_id,
            child_id=body.child_id,
            session_ids=body.session_ids,
            options=body.options,
            tshirt_size=body.tshirt_size,
            join_waitlist=body.join_waitlist,
            clock=st.clock,
            settings=st.settings,
            gateway=st.gateway,
            with_cart=False,
        ),
        lambda db: cart.cart_view(db, family_id, clock=st.clock, settings=st.settings),
    )
    return ok({**result, "cart": view})


@bp.delete("/lines/<line_id:int>")
@openapi.summary("Remove a line; its place goes back (and may be offered to the waitlist)")
@documented(Cart, refusals=(401, 404, 409), auth=FAMILY)
@family_only
async def remove_line(request: Request, line_id: int) -> HTTPResponse:
    st = state(request)
    family_id: int = request.ctx.family_id
    view = await st.db(
        lambda db: cart.remove_line(
            db, family_id, line_id, clock=st.clock, settings=st.settings, gateway=st.gateway
        )
    )
    return ok(view)


@bp.patch("/lines/<line_id:int>")
@openapi.summary("Change a line's options or T-shirt size")
@documented(Cart, body=UpdateLine, refusals=(401, 404, 409, 422), auth=FAMILY)
@family_only
async def update_line(request: Request, line_id: int) -> HTTPResponse:
    body = parse(request, UpdateLine)
    st = state(request)
    family_id: int = request.ctx.family_id
    view = await st.db(
        lambda db: cart.update_line(
            db,
            family_id,
            line_id,
            options=body.options,
            tshirt_size=body.tshirt_size,
            clock=st.clock,
            settings=st.settings,
        )
    )
    return ok(view)


@bp.post("/lines/<line_id:int>/replace")
@openapi.summary(
    "Replace a line with another session for the same child: the new place is held and the "
    "old one released in one transaction (a full session changes nothing)"
)
@documented(ReplacedLine, body=ReplaceLine, refusals=(401, 403, 404, 409, 422), auth=FAMILY)
@family_only
async def replace_line(request: Request, line_id: int) -> HTTPResponse:
    body = parse(request, ReplaceLine)
    st = state(request)
    family_id: int = request.ctx.family_id
    # As for adding weeks: the places change in one short transaction, the cart is read after.
    result, view = await st.db_then_read(
        lambda db: cart_replace.replace_line(
            db,
            family_id,
            line_id,
            session_id=body.session_id,
            join_waitlist=body.join_waitlist,
            clock=st.clock,
            settings=st.settings,
            gateway=st.gateway,
            with_cart=False,
        ),
        lambda db: cart.cart_view(db, family_id, clock=st.clock, settings=st.settings),
    )
    del result["cart"]
    return ok({**view, **result})
