"""SMS opt-outs (service secret): every sender, bot replies included, honours them."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from backend.api.app_state import state
from backend.api.bodies import invalid, ok, parse, parse_query
from backend.api.guards import service_only
from backend.api.openapi_doc import SERVICE, documented
from backend.api.responses import SmsStatus
from backend.api.schemas import PhoneOnly, SmsStatusQuery
from backend.i18n import field_message
from backend.services import outbox, phones

bp = Blueprint("sms", url_prefix="/api/sms")


def _phone(raw: str) -> str:
    normalized = phones.normalize_phone(raw)
    if normalized is None:
        raise invalid({"phone": field_message("bad_phone")})
    return normalized


@bp.post("/opt-out")
@openapi.summary("STOP / ARRÊT: no more texts to this number")
@documented(SmsStatus, body=PhoneOnly, refusals=(401, 409, 422), auth=SERVICE)
@service_only
async def opt_out(request: Request) -> HTTPResponse:
    phone = _phone(parse(request, PhoneOnly).phone)
    st = state(request)
    await st.db(lambda db: outbox.opt_out(db, phone, clock=st.clock))
    return ok({"phone": phone, "opted_out": True})


@bp.post("/opt-in")
@openapi.summary("START / REPRENDRE: texts allowed again")
@documented(SmsStatus, body=PhoneOnly, refusals=(401, 409, 422), auth=SERVICE)
@service_only
async def opt_in(request: Request) -> HTTPResponse:
    phone = _phone(parse(request, PhoneOnly).phone)
    st = state(request)
    await st.db(lambda db: outbox.opt_in(db, phone))
    return ok({"phone": phone, "opted_out": False})


@bp.get("/status")
@openapi.summary("Whether a number opted out of texts")
@documented(SmsStatus, query=SmsStatusQuery, refusals=(401, 422), auth=SERVICE)
@service_only
async def status(request: Request) -> HTTPResponse:
    phone = _phone(parse_query(request, SmsStatusQuery).phone)
    st = state(request)
    opted_out = await st.db(lambda db: outbox.is_opted_out(db, phone), write=False)
    return ok({"phone": phone, "opted_out": opted_out})
