"""Public facts for the help desk: the city's facts and price quotes (service auth only: a
visitor asks before any identification)."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from backend import city
from backend.api.app_state import state
from backend.api.bodies import ok, parse_query
from backend.api.facts_responses import Facts, Quote
from backend.api.guards import service_only
from backend.api.openapi_doc import SERVICE, documented
from backend.api.schemas import QuoteQuery
from backend.services import city_facts

bp = Blueprint("facts", url_prefix="/api")


@bp.get("/facts")
@openapi.summary("The city's help-desk facts: phone, hours, URLs, policies, season dates")
@documented(Facts, refusals=(401, 404), auth=SERVICE)
@service_only
async def get_facts(request: Request) -> HTTPResponse:
    st = state(request)
    facts = city.load(st.settings.city)
    view = await st.db(
        lambda db: city_facts.facts_view(db, city=facts, settings=st.settings), write=False
    )
    return ok(view)


@bp.get("/quote")
@openapi.summary("What weeks of an activity would cost, resident and non-resident")
@documented(Quote, query=QuoteQuery, refusals=(401, 404, 422), auth=SERVICE)
@service_only
async def get_quote(request: Request) -> HTTPResponse:
    query = parse_query(request, QuoteQuery)
    st = state(request)
    options = frozenset(code for code, on in (("garde", query.garde), ("velo", query.velo)) if on)
    view: dict[str, Any] = await st.db(
        lambda db: city_facts.quote(
            db, program_id=query.activity, weeks=query.weeks, options=options
        ),
        write=False,
    )
    if query.resident is not None:
        view["total_cents"] = view["resident_cents" if query.resident else "nonresident_cents"]
    return ok(view)
