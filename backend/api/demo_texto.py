"""Demo mode only: a phone in the browser that texts the bot through the real SMS channel.

- `GET /demo/texto`: the page (backend/web/templates/texto.html, its script and style under
  `/demo/texto/static/`, from backend/web/demo); the visitor picks one of the demo families'
  phones, or a phone on nobody's file.
- `POST /demo/texto/send` `{"phone", "body"}`: plays Twilio. The text is posted to Rasa's signed
  SMS webhook exactly as Twilio posts it, signed with twilio's RequestValidator and the demo auth
  token over the public URL the channel checks (TWILIO_PUBLIC_URL), and kept in the Twilio
  stand-in's thread for that phone.
- `GET /demo/texto/messages?phone=…`: that phone's thread as the stand-in holds it: what the
  visitor sent, the bot's replies and the backend's texts (one-time codes, payment links).

The Twilio stand-in (backend/demo_twilio.py) is at TWILIO_API_BASE; scripts/stack.py starts it
and points the Rasa channel and the backend at it. The blueprint is registered in demo mode only
(backend/app.py), so none of these routes exists otherwise.
"""

from __future__ import annotations

import html
import os
import secrets
from string import Template
from typing import Any

import httpx
import phonenumbers
from pydantic import BaseModel, Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic.response import html as html_response
from sanic.response import json as json_response
from sanic_ext import openapi
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from backend.api.app_state import state
from backend.api.bodies import error_response, parse, parse_query
from backend.api.openapi_doc import documented
from backend.api.web import DEMO_FAMILIES, WEB_DIR, rasa_url, sentence
from backend.db.models import Family

# A phone on no family's file: identification then goes by client number and one-time code.
UNKNOWN_PHONE = "+15145550123"
WEBHOOK_PATH = "/webhooks/twilio_sms/webhook"
MAX_BODY = 1_600  # what Twilio accepts in one inbound text (10 parts)


class TextQuery(BaseModel):
    phone: str = Field(max_length=20, description="the phone, E.164: +14185550101")


class TextSent(BaseModel):
    phone: str = Field(max_length=20, description="one of the page's phones, E.164")
    body: str = Field(min_length=1, max_length=MAX_BODY, pattern=r"\S")


class TextMessage(BaseModel):
    n: int
    direction: str = Field(description='"in": to the city\'s number; "out": to the phone')
    body: str
    at: str


class Thread(BaseModel):
    messages: list[TextMessage]


class Accepted(BaseModel):
    sent: bool


bp = Blueprint("demo_texto")
bp.static("/demo/texto/static", str(WEB_DIR / "demo"), name="demo_texto_static")


def _national(phone: str) -> str:
    """ "418 555-0101" for +14185550101, as Québec writes a number."""
    number = phonenumbers.parse(phone, "CA")
    return (
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        .replace("(", "")
        .replace(") ", " ")
    )


async def demo_phones(request: Request) -> list[dict[str, str]]:
    """The demo families' phones, read from their files, then the phone on nobody's file."""
    names = dict(DEMO_FAMILIES)

    def read(db: Any) -> list[tuple[str, str]]:
        rows = db.execute(
            select(Family.client_number, Family.phone).where(Family.client_number.in_(names))
        )
        return sorted((str(r[0]), str(r[1])) for r in rows)

    families = await state(request).db(read, write=False)
    phones = [
        {
            "phone": phone,
            "label": sentence("texto.phone_family", name=names[number], phone=_national(phone)),
        }
        for number, phone in families
    ]
    phones.append(
        {
            "phone": UNKNOWN_PHONE,
            "label": sentence("texto.phone_unknown", phone=_national(UNKNOWN_PHONE)),
        }
    )
    return phones


def _stand_in_url(request: Request) -> str:
    return state(request).settings.twilio_api_base.rstrip("/")


def _public_webhook_url() -> str:
    """What the channel checks the signature over (its `public_url` plus its path)."""
    base = os.environ.get("TWILIO_PUBLIC_URL", rasa_url()).rstrip("/")
    return base if base.endswith(WEBHOOK_PATH) else base + WEBHOOK_PATH


def _headers() -> dict[str, str]:
    return {
        "Content-Security-Policy": (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'self'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-store",
    }


@bp.get("/demo/texto")
@openapi.summary("Demo mode only: a phone in the browser that texts the bot (not found otherwise)")
@documented(None, html=True)
async def page(request: Request) -> HTTPResponse:
    settings = state(request).settings
    city_number = settings.twilio_from_number or os.environ.get("TWILIO_NUMBER", "")
    options = "".join(
        f'<option value="{html.escape(p["phone"])}">{html.escape(p["label"])}</option>'
        for p in await demo_phones(request)
    )
    shown_number = _national(city_number) if city_number else ""
    values = {
        key: html.escape(sentence(f"texto.{key}"))
        for key in ("title", "phone_label", "log_label", "input_label", "send", "back", "empty")
    }
    values.update(
        intro=html.escape(sentence("texto.intro", city=settings.city_name)),
        to=html.escape(sentence("texto.to", number=shown_number)),
        city=html.escape(settings.city_name),
        options=options,
        you=html.escape(sentence("texto.you")),
        them=html.escape(sentence("texto.them", number=shown_number)),
        send_failed=html.escape(sentence("texto.send_failed")),
    )
    template = Template((WEB_DIR / "templates" / "texto.html").read_text(encoding="utf-8"))
    return html_response(template.substitute(values), headers=_headers())


@bp.get("/demo/texto/messages")
@openapi.summary("Demo mode only: a phone's texts as the Twilio stand-in received them")
@documented(Thread, query=TextQuery, refusals=(404, 422, 503))
async def messages(request: Request) -> HTTPResponse:
    phone = parse_query(request, TextQuery).phone
    st = state(request)
    if not _stand_in_url(request):  # no Twilio stand-in (TWILIO_API_BASE): no phone to read
        return error_response(st.settings, "not_found", 404)
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            resp = await client.get(
                _stand_in_url(request) + "/demo/messages", params={"phone": phone}
            )
        resp.raise_for_status()
    except httpx.HTTPError:
        return error_response(st.settings, "internal_error", 503)
    thread = [
        {"n": m["n"], "direction": m["direction"], "body": m["body"], "at": m["at"]}
        for m in resp.json()["messages"]
    ]
    return json_response({"messages": thread}, headers={"Cache-Control": "no-store"})


@bp.post("/demo/texto/send")
@openapi.summary("Demo mode only: text the bot from one of the page's phones, signed as Twilio")
@documented(Accepted, status=202, body=TextSent, refusals=(404, 422, 503))
async def send(request: Request) -> HTTPResponse:
    st = state(request)
    sent = parse(request, TextSent)
    phone, body = sent.phone, sent.body.strip()
    allowed = {p["phone"] for p in await demo_phones(request)}
    if phone not in allowed or not _stand_in_url(request):  # not a phone of this page
        return error_response(st.settings, "not_found", 404)
    city_number = st.settings.twilio_from_number or os.environ.get("TWILIO_NUMBER", "")
    params = {
        "MessageSid": "SM" + secrets.token_hex(16),
        "AccountSid": st.settings.twilio_account_sid,
        "From": phone,
        "To": city_number,
        "Body": body,
        "NumMedia": "0",
    }
    signature = RequestValidator(st.settings.twilio_auth_token).compute_signature(
        _public_webhook_url(), params
    )
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            kept = await client.post(
                _stand_in_url(request) + "/demo/inbound", data={"phone": phone, "body": body}
            )
            kept.raise_for_status()
            resp = await client.post(
                rasa_url() + WEBHOOK_PATH, data=params, headers={"X-Twilio-Signature": signature}
            )
            resp.raise_for_status()
    except httpx.HTTPError:
        return error_response(st.settings, "internal_error", 503)
    return json_response({"sent": True}, status=202)
