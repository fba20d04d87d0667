"""The family file, the season and the catalog."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from backend.api.app_state import state
from backend.api.bodies import ok, parse_query
from backend.api.guards import family_only, optional_family, service_only
from backend.api.health_schemas import HealthLinks
from backend.api.openapi_doc import FAMILY, SERVICE, documented
from backend.api.responses import (
    Availability,
    Catalog,
    EligibleCatalog,
    Family,
    FamilyStatus,
    Revoked,
    Season,
)
from backend.api.schemas import EligibleQuery
from backend.services import auth, catalog, family, family_status, health_links

bp = Blueprint("family", url_prefix="/api")


@bp.get("/family")
@openapi.summary("The identified family's file (children, masked contacts, status)")
@documented(Family, refusals=(401, 404), auth=FAMILY)
@family_only
async def get_family(request: Request) -> HTTPResponse:
    st = state(request)
    family_id: int = request.ctx.family_id
    view = await st.db(lambda db: family.family_view(db, family_id), write=False)
    return ok(view)


@bp.get("/family/status")
@openapi.summary("Each child's registrations, the family's orders and what is still due")
@documented(FamilyStatus, refusals=(401, 404), auth=FAMILY)
@family_only
async def get_status(request: Request) -> HTTPResponse:
    st = state(request)
    family_id: int = request.ctx.family_id
    view = await st.db(
        lambda db: family_status.status_view(
            db, family_id, clock=st.clock, settings=st.settings
        ),
        write=False,
    )
    return ok(view)
@bp.post("/family/health-links")
@openapi.summary("A fresh signed link to each child's fiche santé (for the web chat)")
@documented(HealthLinks, refusals=(401, 404), auth=FAMILY)
@family_only
async def health_link_list(request: Request) -> HTTPResponse:
    st = state(request)
    family_id: int = request.ctx.family_id
    links = await st.db(
        lambda db: health_links.family_links(db, family_id, clock=st.clock, settings=st.settings),
        write=False,
    )
    return ok({"children": links})


@bp.post("/family/session/revoke")
@openapi.summary("Sign out: the family token stops working at once")
@documented(Revoked, refusals=(401,), auth=FAMILY)
@family_only
async def revoke_session(request: Request) -> HTTPResponse:
    st = state(request)
    token = str(request.headers.get("x-family-token"))
    await st.db(lambda db: auth.revoke_token(db, token))
    st.tokens.forget(token)
    return ok({"revoked": True})


@bp.get("/season")
@openapi.summary("The current season (with the family's opening date when a token is given)")
@documented(Season, refusals=(401, 404), auth=SERVICE)
@service_only
async def get_season(request: Request) -> HTTPResponse:
    st = state(request)
    family_id = await optional_family(request)
    view = await st.db(
        lambda db: catalog.season_view(db, clock=st.clock, family_id=family_id), write=False
    )
    return ok(view)


@bp.get("/catalog")
@openapi.summary("The whole live catalog with availability")
@documented(Catalog, refusals=(401, 404), auth=SERVICE)
@service_only
async def get_catalog(request: Request) -> HTTPResponse:
    st = state(request)
    family_id = await optional_family(request)
    view: dict[str, Any] = await st.db(
        lambda db: catalog.catalog_view(db, clock=st.clock, family_id=family_id), write=False
    )
    return ok(view)


@bp.get("/catalog/availability")
@openapi.summary("The live numbers of the catalog: places free and waiting per week and option")
@documented(Availability, refusals=(401, 404), auth=SERVICE)
@service_only
async def get_availability(request: Request) -> HTTPResponse:
    st = state(request)
    family_id = await optional_family(request)
    view: dict[str, Any] = await st.db(
        lambda db: catalog.availability_view(db, clock=st.clock, family_id=family_id),
        write=False,
    )
    return ok(view)


@bp.get("/catalog/eligible")
@openapi.summary("The catalog filtered to what a child may join (age at 30 September)")
@documented(EligibleCatalog, query=EligibleQuery, refusals=(401, 404, 422), auth=FAMILY)
@family_only
async def get_eligible(request: Request) -> HTTPResponse:
    query = parse_query(request, EligibleQuery)
    st = state(request)
    family_id: int = request.ctx.family_id
    view = await st.db(
        lambda db: catalog.catalog_view(
            db, clock=st.clock, family_id=family_id, child_id=query.child_id
        ),
        write=False,
    )
    return ok(view)
