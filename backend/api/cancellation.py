"""A parent cancels one of the family's lines (a held place or a paid registration)."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from backend.api.common import family_only, ok, state
from backend.api.openapi_doc import FAMILY, documented
from backend.api.responses import CancellationOutcome, Cancelled
from backend.services import cancellation

bp = Blueprint("cancellation", url_prefix="/api/family/lines")


@bp.get("/<line_id:int>/cancellation")
@openapi.summary(
    "What cancelling the line would do now: the refund, the fee kept, what is no longer due"
)
@documented(CancellationOutcome, refusals=(401, 404, 409), auth=FAMILY)
@family_only
async def cancellation_outcome(request: Request, line_id: int) -> HTTPResponse:
    st = state(request)
    family_id: int = request.ctx.family_id
    view = await st.db(
        lambda db: cancellation.family_outcome(
            db, family_id, line_id, clock=st.clock, settings=st.settings
        ),
        write=False,
    )
    return ok(view)


@bp.post("/<line_id:int>/cancel")
@openapi.summary(
    "Cancel the line: refunded by the policy, its place offered to the waitlist"
)
@documented(Cancelled, refusals=(401, 404, 409), auth=FAMILY)
@family_only
async def cancel_line(request: Request, line_id: int) -> HTTPResponse:
    st = state(request)
    family_id: int = request.ctx.family_id
    view = await st.db(
        lambda db: cancellation.family_cancel(
            db,
            family_id,
            line_id,
            clock=st.clock,
            settings=st.settings,
            gateway=st.gateway,
        )
    )
    await st.send_refunds()
    return ok(view)
