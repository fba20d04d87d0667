"""The fiche santé page (`/sante/<token>`): one child's form, reached by the signed, expiring
link the web chat, a reminder texto or courriel gave the family (docs/HEALTH.md).

GET shows the form filled with what is on file (never the health-insurance number itself);
POST checks every field, shows each problem beside its field and saves nothing until all are
right. The page is ours (French, the city's colours), has no script, is never cached, never
framed and sends no referrer (the path is the credential). Nothing of the form reaches a log.
"""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic.response import html as html_response
from sanic_ext import openapi
from sqlalchemy.orm import Session

from backend.api import health_page
from backend.api.app_state import state
from backend.api.health_schemas import HealthFormFields
from backend.api.openapi_doc import documented
from backend.api.rate_limit import pay_wait, retry_after
from backend.domain.errors import RegistrationError
from backend.i18n import _, error_message
from backend.services import health_links, health_records
from backend.services.health_links import HealthLink

bp = Blueprint("health_form", url_prefix="/sante")

FIELDS = tuple(HealthFormFields.model_fields)
# The form's longest honest answer is a few kilobytes; beyond this nothing is read.
MAX_BODY = 32_000

_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
}


def _page(request: Request, title: str, content: str, status: int = 200) -> HTTPResponse:
    city = _("Inscriptions aux activités de loisirs")
    return html_response(
        health_page.document(city, title, content), status=status, headers=dict(_HEADERS)
    )


def _refused(request: Request, code: str) -> HTTPResponse:
    settings = state(request).settings
    if code not in ("health_link_invalid", "health_link_expired", "rate_limited"):
        code = "health_link_invalid"
    text = error_message(code, city_phone=settings.city_phone, city_hours=settings.city_hours)
    help_text = _("Besoin d'aide? Service des loisirs : %(phone)s, %(hours)s.") % {
        "phone": settings.city_phone,
        "hours": settings.city_hours,
    }
    status = {"health_link_expired": 410, "rate_limited": 429}.get(code, 404)
    title = _("Ce lien a expiré") if code == "health_link_expired" else _("Fiche santé")
    return _page(request, title, health_page.problem_page(text, help_text), status)


def _too_many(request: Request) -> HTTPResponse | None:
    wait = pay_wait(request)
    if not wait:
        return None
    response = _refused(request, "rate_limited")
    response.headers["Retry-After"] = retry_after(wait)
    return response


def _title(child: str) -> str:
    return _("Fiche santé de %(child)s") % {"child": child}


@bp.get("/<token:str>")
@openapi.summary("A child's fiche santé form, reached by its signed link")
@documented(None, html=True, refusals=(404, 410, 429))
async def show(request: Request, token: str) -> HTTPResponse:
    if limited := _too_many(request):
        return limited
    st = state(request)

    def read(db: Session) -> tuple[str, dict[str, str], HealthLink]:
        link = health_links.read(token, clock=st.clock, settings=st.settings)
        person = health_links.child_of_link(db, link)
        return person.first_name, health_records.form_values(person, st.settings), link

    try:
        child, values, link = await st.db(read, write=False)
    except RegistrationError as refusal:
        return _refused(request, refusal.code)
    content = health_page.form_page(
        child=child,
        action=f"/sante/{token}",
        expires_at=link.expires_at,
        values=values,
        problems={},
    )
    return _page(request, _title(child), content)


@bp.post("/<token:str>")
@openapi.summary("Save a child's fiche santé (each wrong field is shown beside it, nothing saved)")
@documented(None, html=True, body=HealthFormFields, form=True, refusals=(404, 410, 422, 429))
async def submit(request: Request, token: str) -> HTTPResponse:
    if limited := _too_many(request):
        return limited
    st = state(request)
    if len(request.body or b"") > MAX_BODY:
        return _refused(request, "health_link_invalid")
    form = request.form
    fields = {name: str((form.get(name) if form else None) or "") for name in FIELDS}

    def write(db: Session) -> tuple[str, dict[str, str], str, HealthLink]:
        link = health_links.read(token, clock=st.clock, settings=st.settings)
        person = health_links.child_of_link(db, link)
        on_file = health_records.form_values(person, st.settings).get("insurance_on_file", "")
        problems = health_records.save(db, person, fields, clock=st.clock, settings=st.settings)
        return person.first_name, problems, on_file, link

    try:
        child, problems, on_file, link = await st.db(write)
    except RegistrationError as refusal:
        return _refused(request, refusal.code)
    expires_at = link.expires_at
    if problems:
        # What the parent typed comes back in the form, the number included (it was never
        # stored): they correct a field instead of typing everything again.
        content = health_page.form_page(
            child=child, action=f"/sante/{token}", expires_at=expires_at,
            values={**fields, "insurance_on_file": on_file}, problems=problems,
        )
        return _page(request, _title(child), content, status=422)
    return _page(request, _title(child), health_page.saved_page(child, expires_at))
