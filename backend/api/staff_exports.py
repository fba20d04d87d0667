"""Staff CSV exports (docs/STAFF.md "Exports"): registrations of a season or a group
(coordinator), a group's health records (its animators). Each export is audited."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, raw
from sanic_ext import openapi

from backend.api.app_state import state
from backend.api.bodies import parse_query
from backend.api.guards import staff_only
from backend.api.staff import actor
from backend.api.staff_schemas import RegistrationsExportQuery, StaffError, schema
from backend.domain.roles import Action
from backend.services import exports

bp = Blueprint("staff_exports", url_prefix="/api/staff/exports")


def _csv(body: str, filename: str) -> HTTPResponse:
    return raw(
        body.encode("utf-8"),
        content_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@bp.get("/registrations.csv")
@openapi.summary("A season's registrations, or one group's, as CSV (coordinator; audited)")
@openapi.parameter("season_id", int, "query", required=True)
@openapi.parameter("group_id", int, "query")
@openapi.response(200, {"text/csv": str}, "Semicolon-separated, UTF-8 with a byte-order mark")
@openapi.response(403, schema(StaffError), "staff_forbidden")
@staff_only(Action.EXPORT)
async def registrations(request: Request) -> HTTPResponse:
    query = parse_query(request, RegistrationsExportQuery)
    st = state(request)
    who = actor(request)
    body = await st.db(
        lambda db: exports.registrations_csv(
            db, season_id=query.season_id, group_id=query.group_id, actor=who, clock=st.clock
        )
    )
    suffix = f"-groupe-{query.group_id}" if query.group_id else ""
    return _csv(body, f"inscriptions-saison-{query.season_id}{suffix}.csv")


@bp.get("/groups/<group_id:int>/health.csv")
@openapi.summary("A group's health records as CSV, for its animators (audited)")
@openapi.response(200, {"text/csv": str}, "Semicolon-separated, UTF-8 with a byte-order mark")
@openapi.response(403, schema(StaffError), "staff_forbidden")
@staff_only(Action.READ_ROSTER)
async def health(request: Request, group_id: int) -> HTTPResponse:
    st = state(request)
    who = actor(request)
    body = await st.db(lambda db: exports.health_csv(db, group_id, actor=who, clock=st.clock))
    return _csv(body, f"fiches-sante-groupe-{group_id}.csv")
