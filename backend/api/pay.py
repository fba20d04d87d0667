"""The hosted checkout page of the local gateway (`/p/<token>`): French, accessible, readable on a
phone, no external assets. The card number is checked and tokenised here and never stored; the
result reaches the backend through the gateway's signed webhook, like with a real provider."""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import parse_qs

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic.response import html as html_response
from sanic_ext import openapi

from backend.adapters.clock import local_date
from backend.adapters.local_gateway import LocalGateway, check_card
from backend.api.common import state
from backend.api.openapi_doc import documented
from backend.api.rate_limit import pay_wait, retry_after
from backend.api.schemas import CardForm
from backend.domain.errors import RegistrationError
from backend.i18n import N_, _, error_message, format_date, format_day_month, format_money

bp = Blueprint("pay", url_prefix="/p")

_STYLE = """
*{box-sizing:border-box}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;font-size:1.05rem;
line-height:1.5;color:#1b1b1b;background:#f4f6f8}
main{max-width:34rem;margin:0 auto;padding:1rem}
header{background:#0b4f6c;color:#fff;padding:.9rem 1rem}
header p{margin:0;font-weight:600}
h1{font-size:1.4rem;margin:.6rem 0 1rem}
section{background:#fff;border-radius:.5rem;padding:1rem;margin-bottom:1rem;
box-shadow:0 1px 2px rgba(0,0,0,.12)}
.amount{font-size:1.6rem;font-weight:700;margin:.2rem 0}
ul{padding-left:1.2rem;margin:.4rem 0}
label{display:block;font-weight:600;margin:.8rem 0 .2rem}
input{width:100%;font-size:1.1rem;padding:.6rem;border:2px solid #5b6770;border-radius:.4rem}
input:focus{outline:3px solid #ffbf47;outline-offset:1px;border-color:#0b4f6c}
.row{display:flex;gap:.8rem}.row div{flex:1}
button{margin-top:1.2rem;width:100%;font-size:1.15rem;font-weight:700;padding:.8rem;border:0;
border-radius:.4rem;background:#0b4f6c;color:#fff;cursor:pointer}
button:focus{outline:3px solid #ffbf47;outline-offset:2px}
.error{border-left:6px solid #b00020;background:#fdecee}
.ok{border-left:6px solid #1e7b34;background:#eaf6ec}
.hint{color:#4a545c;font-size:.95rem}
"""


def _page(title: str, content: str, status: int = 200) -> HTTPResponse:
    city = html.escape(_("Inscriptions aux activités de loisirs"))
    document = (
        '<!doctype html><html lang="fr-CA"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f'<body><header><p>{city}</p></header><main id="contenu">'
        f"<h1>{html.escape(title)}</h1>{content}</main></body></html>"
    )
    return html_response(
        document,
        status=status,
        headers={
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "X-Frame-Options": "DENY",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
            "form-action 'self'; base-uri 'none'",
        },
    )


def _line(line: dict[str, Any]) -> str:
    parts = [str(line.get(k)) for k in ("child", "program", "group", "site") if line.get(k)]
    text = " – ".join(parts)
    if line.get("starts_on") and line.get("ends_on"):
        from datetime import date

        start = date.fromisoformat(str(line["starts_on"])[:10])
        end = date.fromisoformat(str(line["ends_on"])[:10])
        text += " " + _("du %(start)s au %(end)s") % {
            "start": format_day_month(start),
            "end": format_day_month(end),
        }
    if isinstance(line.get("price_cents"), int):
        text += " : " + format_money(int(line["price_cents"]))
    return f"<li>{html.escape(text)}</li>"


def _summary(view: dict[str, Any]) -> str:
    lines = "".join(_line(line) for line in view.get("lines") or [])
    plan = ""
    installments = view.get("installments") or []
    if len(installments) > 1:
        items = "".join(
            "<li>"
            + html.escape(
                _("Versement %(seq)s : %(amount)s, le %(date)s")
                % {
                    "seq": i.get("seq"),
                    "amount": format_money(int(i.get("amount_cents", 0))),
                    "date": format_date(_as_date(i.get("due_on"))),
                }
            )
            + "</li>"
            for i in installments
        )
        plan = f"<p>{html.escape(_('Modalités de paiement :'))}</p><ul>{items}</ul>"
    return (
        "<section>"
        f"<p>{html.escape(_('Montant à payer maintenant'))}</p>"
        f'<p class="amount">{html.escape(format_money(int(view["amount_cents"])))}</p>'
        f"<p>{html.escape(_('Total de la commande : %(total)s') % {'total': format_money(int(view.get('total_cents', 0)))})}</p>"  # noqa: E501
        f"<p>{html.escape(_('Ce que vous payez :'))}</p><ul>{lines}</ul>{plan}"
        "</section>"
    )


def _as_date(value: object) -> Any:
    from datetime import date

    return date.fromisoformat(str(value)[:10])


_FIELD_ERRORS = {
    "number": N_("Le numéro de carte ne semble pas complet. Pouvez-vous le vérifier?"),
    "expiry": N_("La date d'expiration doit avoir la forme MM/AA, par exemple 08/29."),
    "cvc": N_("Le code de sécurité compte 3 ou 4 chiffres, au dos de la carte."),
}


def _form(token: str, view: dict[str, Any], message: str = "", focus: str = "") -> str:
    alert = (
        f'<section class="error" role="alert"><p>{html.escape(message)}</p></section>'
        if message
        else ""
    )
    consent = (
        f'<p class="hint">{html.escape(_("Avec votre accord, la carte sera conservée de façon sécurisée par le fournisseur de paiement pour le deuxième versement."))}</p>'  # noqa: E501
        if view.get("save_card")
        else ""
    )

    def field(name: str, label: str, autocomplete: str, hint: str, size: int) -> str:
        invalid = ' aria-invalid="true"' if focus == name else ""
        autofocus = " autofocus" if focus == name else ""
        return (
            f'<label for="{name}">{html.escape(label)}</label>'
            f'<input id="{name}" name="{name}" inputmode="numeric" autocomplete="{autocomplete}" '
            f'required maxlength="{size}" aria-describedby="{name}-aide"{invalid}{autofocus}>'
            f'<p class="hint" id="{name}-aide">{html.escape(hint)}</p>'
        )

    return (
        alert
        + _summary(view)
        + f'<section><form method="post" action="/p/{html.escape(token)}" novalidate>'
        + field(
            "number",
            _("Numéro de carte"),
            "cc-number",
            _("Les 16 chiffres inscrits sur la carte."),
            23,
        )
        + '<div class="row"><div>'
        + field("expiry", _("Date d'expiration"), "cc-exp", _("MM/AA"), 7)
        + "</div><div>"
        + field("cvc", _("Code de sécurité"), "cc-csc", _("3 ou 4 chiffres"), 4)
        + "</div></div>"
        + consent
        + f'<button type="submit">{html.escape(_("Payer %(amount)s") % {"amount": format_money(int(view["amount_cents"]))})}</button>'  # noqa: E501
        + "</form></section>"
    )


def _problem_page(code: str, request: Request) -> HTTPResponse:
    settings = state(request).settings
    if code == "payment_link_expired":
        title = _("Ce lien de paiement a expiré")
    else:
        title = _("Ce lien de paiement n'est plus actif")
    text = (
        error_message(code, city_phone=settings.city_phone, city_hours=settings.city_hours)
        if code == "payment_link_expired"
        else _(
            "Ce paiement a peut-être déjà été fait, ou la commande a été annulée. Vous pouvez "
            "vérifier l'état de votre commande auprès de l'assistant."
        )
    )
    help_text = _("Besoin d'aide? Service des loisirs : %(phone)s, %(hours)s.") % {
        "phone": settings.city_phone,
        "hours": settings.city_hours,
    }
    status = 410 if code == "payment_link_expired" else 404
    return _page(
        title,
        f'<section class="error"><p>{html.escape(text)}</p>'
        f"<p>{html.escape(help_text)}</p></section>",
        status=status,
    )


async def _view(request: Request, token: str) -> dict[str, Any]:
    from backend.services.checkout import payment_page_view

    st = state(request)
    if len(token) > 64:
        raise RegistrationError("not_found")
    return await st.db(lambda db: payment_page_view(db, token, clock=st.clock), write=False)


def _slow_down(request: Request) -> HTTPResponse | None:
    """Too many payment pages from one address: a French page, nothing read or paid."""
    wait = pay_wait(request)
    if not wait:
        return None
    settings = state(request).settings
    text = error_message(
        "rate_limited", city_phone=settings.city_phone, city_hours=settings.city_hours
    )
    response = _page(
        _("Trop de demandes"), f'<section class="error"><p>{html.escape(text)}</p></section>', 429
    )
    response.headers["Retry-After"] = retry_after(wait)
    return response


@bp.get("/<token:str>")
@openapi.summary("The hosted checkout page of a payment link")
@documented(None, html=True, refusals=(404, 410, 429))
async def show(request: Request, token: str) -> HTTPResponse:
    if (refused := _slow_down(request)) is not None:
        return refused
    try:
        view = await _view(request, token)
    except RegistrationError as error:
        return _problem_page(error.code, request)
    return _page(_("Paiement sécurisé"), _form(token, view))


@bp.post("/<token:str>")
@openapi.summary("Pay: the card form, answered by the page again (paid, declined or to fix)")
@documented(None, html=True, body=CardForm, form=True, refusals=(402, 404, 410, 422, 429))
async def pay(request: Request, token: str) -> HTTPResponse:
    if (refused := _slow_down(request)) is not None:
        return refused
    try:
        view = await _view(request, token)
    except RegistrationError as error:
        return _problem_page(error.code, request)
    st = state(request)
    gateway = st.gateway
    if not isinstance(gateway, LocalGateway):
        return _problem_page("not_found", request)

    form = parse_qs((request.body or b"").decode("utf-8", "replace"))

    def value(name: str) -> str:
        return (form.get(name) or [""])[0][:40]

    check = check_card(value("number"), value("expiry"), value("cvc"), local_date(st.clock))
    if not check.ok:
        field = check.field or "number"
        return _page(
            _("Paiement sécurisé"), _form(token, view, _(_FIELD_ERRORS[field]), field), 422
        )

    session_id = str(view["gateway_session_id"])
    session = gateway.describe_checkout(session_id)
    amount = int(session["amount_cents"]) if session else int(view["amount_cents"])
    save_card = bool(view.get("save_card"))
    outcome = gateway.pay_hosted(
        session_id=session_id, card_number=check.number, amount_cents=amount, save_card=save_card
    )
    await gateway.deliver(outcome.event)
    if not outcome.approved:
        message = _(
            "La carte a été refusée par l'institution financière. Aucun montant n'a été "
            "prélevé. Vous pouvez essayer une autre carte."
        )
        return _page(_("Paiement sécurisé"), _form(token, view, message, "number"), 402)
    thanks = _(
        "Paiement de %(amount)s reçu. Merci! Une confirmation vous est envoyée par texto ou "
        "par courriel."
    ) % {"amount": format_money(amount)}
    after = _("Vous pouvez fermer cette page et revenir à la conversation.")
    return _page(
        _("Paiement reçu"),
        f'<section class="ok" role="status"><p>{html.escape(thanks)}</p>'
        f"<p>{html.escape(after)}</p></section>",
    )
