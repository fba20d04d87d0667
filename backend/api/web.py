"""The city's "Inscriptions aux activités" page with the chat widget, and its static files.

- `GET /` renders the page server-side: every sentence comes from the gettext domain "channels"
  (`locales/fr_CA/LC_MESSAGES/channels.po`), HTML-escaped; the widget's own strings and settings
  travel in a JSON block that chat.js reads.
- `GET /static/…` serves backend/web/static (chat.js, chat.css, the socket.io client fetched from
  the npm registry by scripts/fetch-socketio-client.sh).
- `POST /demo/widget-token` exists only in demo mode: it plays the city's web site, minting a
  signed widget token for one of the demo families ("Se connecter comme"). In production the
  city's own site mints the token with the shared secret (docs/CHANNELS.md).

The socket.io server is Rasa's (setting RASA_URL, default http://localhost:5005).
"""

from __future__ import annotations

import gettext
import html
import io
import json
import os
from functools import lru_cache
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import urlsplit

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic.response import html as html_response
from sanic.response import json as json_response
from sanic_ext import openapi

from backend.api.app_state import state
from backend.api.bodies import error_response
from backend.api.openapi_doc import documented
from backend.api.responses import WidgetToken
from backend.api.schemas import DemoLogin
from backend.services.widget_token import DEFAULT_TTL_SECONDS, mint_widget_token

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
STATIC_DIR = WEB_DIR / "static"
LOCALES_DIR = Path(__file__).resolve().parent.parent.parent / "locales"
DOMAIN = "channels"
LOCALE = "fr_CA"
DEFAULT_RASA_URL = "http://localhost:5005"

# The demo families of the seeded data: the only ones "Se connecter comme" offers.
DEMO_FAMILIES: tuple[tuple[str, str], ...] = (
    ("100001", "Julie Tremblay"),
    ("100002", "Marc Gagnon"),
    ("100003", "Sophie Roy"),
    ("100004", "Karim Haddad"),
)

# Page sentences (keys of the catalog, "web." prefix) and widget sentences ("chat." prefix).
_PAGE_KEYS = (
    "page_title", "skip_link", "city_tagline", "nav_label", "nav_home", "nav_leisure",
    "nav_registrations", "nav_contact", "season", "heading", "intro", "how_title", "how_1",
    "how_2", "how_3", "programs_title", "program_camp", "program_camp_text", "program_swim",
    "program_swim_text", "program_soccer", "program_soccer_text", "help_line", "footer",
)
_CHAT_KEYS = (
    "open", "title", "close", "log_label", "input_label", "input_placeholder", "send",
    "welcome_hint", "status_connecting", "status_connected", "status_offline", "you", "bot",
    "new_message", "send_failed", "pay_link", "choice_made",
)
_DEMO_KEYS = ("title", "login", "nobody", "connect", "logged_in", "logged_out", "failed")

bp = Blueprint("web")
bp.static("/static", str(STATIC_DIR), name="static")


@lru_cache(maxsize=4)
def translations(locale: str = LOCALE) -> gettext.NullTranslations:
    """The "channels" catalog: the compiled .mo when current, else the .po compiled in memory."""
    folder = LOCALES_DIR / locale / "LC_MESSAGES"
    mo, po = folder / f"{DOMAIN}.mo", folder / f"{DOMAIN}.po"
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as fp:
            return Translations(fp, domain=DOMAIN)
    with po.open("rb") as fp:
        catalog = read_po(fp, locale=locale, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def sentence(key: str, **values: str) -> str:
    text = translations().gettext(key)
    if text == key:
        raise KeyError(f"{key!r} is missing from the {DOMAIN} catalog")
    return text % values if values else text


def rasa_url() -> str:
    return os.environ.get("RASA_URL", DEFAULT_RASA_URL).rstrip("/")


def script_json(value: Any) -> str:
    """JSON safe inside <script type="application/json">: no "</script>" can close the block."""
    return (
        json.dumps(value, ensure_ascii=False)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )


def _demo_block(enabled: bool) -> str:
    if not enabled:
        return ""
    options = [f'<option value="">{html.escape(sentence("demo.nobody"))}</option>']
    for number, name in DEMO_FAMILIES:
        value, label = html.escape(number), html.escape(f"{name} ({number})")
        options.append(f'<option value="{value}">{label}</option>')
    return (
        '<form class="chat-demo" id="chat-demo">'
        f'<p class="chat-demo-title">{html.escape(sentence("demo.title"))}</p>'
        f'<label for="chat-demo-family">{html.escape(sentence("demo.login"))}</label>'
        f'<select id="chat-demo-family" name="client_number">{"".join(options)}</select>'
        f'<button type="submit">{html.escape(sentence("demo.connect"))}</button>'
        '<p class="chat-demo-note" id="chat-demo-note" role="status"></p>'
        "</form>"
    )


def render_page(*, city: str, city_phone: str, city_hours: str, demo_mode: bool) -> str:
    values: dict[str, str] = {"city": html.escape(city)}
    fill = {"city": city, "phone": city_phone, "hours": city_hours}
    for key in _PAGE_KEYS:
        values[key] = html.escape(sentence(f"web.{key}") % fill)
    chat = {key: sentence(f"chat.{key}") for key in _CHAT_KEYS}
    for key in _CHAT_KEYS:
        values[f"chat_{key}"] = html.escape(chat[key])
    config: dict[str, Any] = {
        "socketUrl": rasa_url(),
        "socketPath": "/socket.io",
        "strings": chat,
        "demo": None,
    }
    if demo_mode:
        config["demo"] = {
            "tokenUrl": "/demo/widget-token",
            "families": [{"clientNumber": n, "name": name} for n, name in DEMO_FAMILIES],
            "strings": {key: sentence(f"demo.{key}") for key in _DEMO_KEYS},
        }
    values["demo_block"] = _demo_block(demo_mode)
    values["config_json"] = script_json(config)
    template = Template((WEB_DIR / "templates" / "index.html").read_text(encoding="utf-8"))
    return template.substitute(values)


def _csp() -> str:
    """Scripts and styles only from this origin; the socket only to Rasa's origin."""
    parts = urlsplit(rasa_url())
    origin = f"{parts.scheme}://{parts.netloc}"
    ws_origin = ("wss" if parts.scheme == "https" else "ws") + f"://{parts.netloc}"
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self' {origin} {ws_origin}; frame-ancestors 'self'; base-uri 'none'; "
        "form-action 'self'"
    )


@bp.get("/")
@openapi.summary("The city's page with the chat widget")
@documented(None, html=True)
async def page(request: Request) -> HTTPResponse:
    settings = state(request).settings
    body = render_page(
        city=settings.city_name,
        city_phone=settings.city_phone,
        city_hours=settings.city_hours,
        demo_mode=settings.demo_mode,
    )
    return html_response(
        body,
        headers={
            "Content-Security-Policy": _csp(),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
            "Cache-Control": "no-store",
        },
    )


@bp.post("/demo/widget-token")
@openapi.summary("Demo mode only: a widget token for a demo family (not found otherwise)")
@documented(WidgetToken, body=DemoLogin, refusals=(400, 404))
async def demo_widget_token(request: Request) -> HTTPResponse:
    """Demo mode only: what the city's site would do after its own login."""
    st = state(request)
    if not st.settings.demo_mode:
        return error_response(st.settings, "not_found", 404)
    payload = request.json if isinstance(request.json, dict) else {}
    client_number = str(payload.get("client_number", ""))
    if client_number not in {number for number, _ in DEMO_FAMILIES}:
        return error_response(st.settings, "not_found", 404)
    token = mint_widget_token(client_number, st.settings.widget_secret, st.clock.now())
    return json_response(
        {"widget_token": token, "expires_in": DEFAULT_TTL_SECONDS},
        headers={"Cache-Control": "no-store"},
    )
