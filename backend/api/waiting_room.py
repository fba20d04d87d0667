"""The waiting room for the channels: join the line, ask one's place (with the family's token),
or a family's admission state with the service secret alone (a channel pushing the news)."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from backend.api.app_state import AppState, state
from backend.api.bodies import ok, parse, parse_query
from backend.api.guards import family_only, service_only
from backend.api.openapi_doc import FAMILY, SERVICE, documented
from backend.api.schemas import Clean, Id
from backend.api.waiting_room_schemas import JoinWaitingRoom, Place
from backend.services import waiting_room

bp = Blueprint("waiting_room", url_prefix="/api/waiting-room")


class SeasonQuery(Clean):
    season_id: Id | None = None


async def _place(st: AppState, family_id: int, season_id: int | None) -> dict[str, Any]:
    def read(db: Any) -> dict[str, Any]:
        return waiting_room.place(db, family_id, season_id=season_id, clock=st.clock)

    view = await st.db(read, write=False)
    if view.pop("needs_draw", False):
        # The opening passed and no worker drew the pre-queue yet: draw it, then answer.
        await st.db(lambda db: waiting_room.ensure_drawn(db, season_id=season_id, clock=st.clock))
        view = await st.db(read, write=False)
        view.pop("needs_draw", None)
    return view


@bp.post("/join")
@openapi.summary("Take the family's place in the waiting room (the same place if it has one)")
@documented(Place, body=JoinWaitingRoom, refusals=(401, 409, 422), auth=FAMILY)
@family_only
async def join(request: Request) -> HTTPResponse:
    body = parse(request, JoinWaitingRoom)
    st = state(request)
    family_id: int = request.ctx.family_id
    notify = None
    if body.conversation:
        notify = (body.conversation, body.channel or body.conversation.partition("_")[0])
    await st.db(
        lambda db: waiting_room.join(
            db, family_id, season_id=body.season_id, clock=st.clock, notify=notify
        )
    )
    return ok(await _place(st, family_id, body.season_id))


@bp.get("/me")
@openapi.summary("The family's place in the waiting room and whether it is admitted")
@documented(Place, query=SeasonQuery, refusals=(401, 422), auth=FAMILY)
@family_only
async def me(request: Request) -> HTTPResponse:
    query = parse_query(request, SeasonQuery)
    st = state(request)
    return ok(await _place(st, request.ctx.family_id, query.season_id))


@bp.get("/families/<family_id:int>")
@openapi.summary("A family's admission state, for a channel without the family's token")
@documented(Place, query=SeasonQuery, refusals=(401, 404, 422), auth=SERVICE)
@service_only
async def family_state(request: Request, family_id: int) -> HTTPResponse:
    query = parse_query(request, SeasonQuery)
    return ok(await _place(state(request), family_id, query.season_id))
