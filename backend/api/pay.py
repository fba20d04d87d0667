"""The hosted payment page (`/p/<token>`): ours (French, the city's colours, every line with its
options, the order number, the link's expiry), with the card field of the provider's script.

The card number goes from the parent's browser to Stripe (localstripe in the demo and the
tests) and never reaches this server: the page confirms a card-setup session with Stripe.js,
then posts only the session's id here; the server attaches the card, creates and confirms the
payment (`backend.services.card_payments`). When the bank asks for authentication, the page runs
it with Stripe.js and posts the payment's id back. Every sentence the page shows comes from here.
"""

from __future__ import annotations

import html
import json
from typing import Any
from urllib.parse import urlsplit

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic.response import html as html_response
from sanic_ext import openapi

from backend.adapters.gateway import GatewayError
from backend.api.app_state import state
from backend.api.bodies import error_response, loads, ok
from backend.api.openapi_doc import documented
from backend.api.rate_limit import pay_wait, retry_after
from backend.api.responses import PayResult
from backend.api.schemas import PayDone, PaySetup
from backend.domain.errors import RegistrationError
from backend.i18n import _, error_message, format_date, format_money
from backend.services.card_payments import Payer, PayOutcome
from backend.services.message_format import as_date, line_text, when

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
#carte{padding:.7rem;border:2px solid #5b6770;border-radius:.4rem;min-height:3rem}
#carte input{font-size:1.05rem;margin:.15rem;padding:.3rem;max-width:100%}
button{margin-top:1.2rem;width:100%;font-size:1.15rem;font-weight:700;padding:.8rem;border:0;
border-radius:.4rem;background:#0b4f6c;color:#fff;cursor:pointer}
button:disabled{opacity:.6}
button:focus{outline:3px solid #ffbf47;outline-offset:2px}
.error{border-left:6px solid #b00020;background:#fdecee}
.ok{border-left:6px solid #1e7b34;background:#eaf6ec}
.hint{color:#4a545c;font-size:.95rem}
[hidden]{display:none}
"""


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _page(request: Request, title: str, content: str, status: int = 200) -> HTTPResponse:
    settings = state(request).settings
    js = _origin(settings.stripe_js_url)
    api = _origin(settings.stripe_api_base or "https://api.stripe.com")
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
            # Stripe.js runs from its own origin, talks to the API and shows its card frames.
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
            f"script-src 'self' {js}; connect-src 'self' {api} {js}; frame-src {js} "
            "https://hooks.stripe.com; img-src 'self' data:; form-action 'self'; "
            "base-uri 'none'",
        },
    )


def _line(line: dict[str, Any]) -> str:
    return f"<li>{html.escape(line_text(line))}</li>"


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
                    "date": format_date(as_date(i.get("due_on"))),
                }
            )
            + "</li>"
            for i in installments
        )
        plan = f"<p>{html.escape(_('Modalités de paiement :'))}</p><ul>{items}</ul>"
    order = _("Commande n° %(order)s") % {"order": view["order_id"]}
    total = _("Total de la commande : %(total)s") % {
        "total": format_money(int(view.get("total_cents", 0)))
    }
    expiry = _("Ce lien est valide jusqu'au %(when)s.") % {"when": when(view["expires_at"])}
    return (
        "<section>"
        f'<p id="commande">{html.escape(order)}</p>'
        f"<p>{html.escape(_('Montant à payer maintenant'))}</p>"
        f'<p class="amount">{html.escape(format_money(int(view["amount_cents"])))}</p>'
        f"<p>{html.escape(total)}</p>"
        f"<p>{html.escape(_('Ce que vous payez :'))}</p><ul>{lines}</ul>{plan}"
        f'<p class="hint">{html.escape(expiry)}</p>'
        "</section>"
    )


def _texts() -> dict[str, str]:
    """What the page's script may have to say, in French, decided here."""
    return {
        "declined": _(
            "La carte a été refusée par l'institution financière. Aucun montant n'a été "
            "prélevé. Vous pouvez essayer une autre carte."
        ),
        "failed": _(
            "Le paiement n'a pas pu être fait. Aucun montant n'a été prélevé. Vous pouvez "
            "réessayer dans un moment."
        ),
        "working": _("Paiement en cours…"),
    }


def _form(request: Request, token: str, view: dict[str, Any], client_secret: str) -> str:
    settings = state(request).settings
    consent = (
        f'<p class="hint">{html.escape(_("Avec votre accord, la carte sera conservée de façon sécurisée par le fournisseur de paiement pour le deuxième versement."))}</p>'  # noqa: E501
        if view.get("save_card")
        else ""
    )
    config = {
        "key": settings.stripe_publishable_key,
        "secret": client_secret,
        "pay": f"/p/{token}/pay",
        "done": f"/p/{token}/done",
        "texts": _texts(),
    }
    pay_label = _("Payer %(amount)s") % {"amount": format_money(int(view["amount_cents"]))}
    return (
        _summary(view)
        + '<section class="error" role="alert" id="alerte" hidden></section>'
        + '<section class="ok" role="status" id="resultat" hidden></section>'
        + '<section id="paiement"><form id="formulaire" novalidate>'
        + f'<p id="carte-titre"><strong>{html.escape(_("Carte de crédit"))}</strong></p>'
        + '<div id="carte" role="group" aria-labelledby="carte-titre"></div>'
        + f'<p class="hint">{html.escape(_("Le numéro de carte va directement au fournisseur de paiement sécurisé; la Ville ne le voit jamais."))}</p>'  # noqa: E501
        + consent
        + f'<button type="submit" id="payer">{html.escape(pay_label)}</button>'
        + "</form>"
        + f"<noscript><p>{html.escape(_('Le paiement en ligne demande JavaScript. Vous pouvez aussi payer en appelant le Service des loisirs.'))}</p></noscript>"  # noqa: E501
        + "</section>"
        + f'<script type="application/json" id="config">{_json_for_html(config)}</script>'
        + f'<script src="{html.escape(settings.stripe_js_url)}"></script>'
        + '<script src="/static/pay.js"></script>'
    )


def _json_for_html(value: Any) -> str:
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _problem_page(code: str, request: Request) -> HTTPResponse:
    settings = state(request).settings
    if code == "payment_link_expired":
        title = _("Ce lien de paiement a expiré")
        text = error_message(code, city_phone=settings.city_phone, city_hours=settings.city_hours)
    else:
        title = _("Ce lien de paiement n'est plus actif")
        text = _(
            "Ce paiement a peut-être déjà été fait, ou la commande a été annulée. Vous pouvez "
            "vérifier l'état de votre commande auprès de l'assistant."
        )
    help_text = _("Besoin d'aide? Service des loisirs : %(phone)s, %(hours)s.") % {
        "phone": settings.city_phone,
        "hours": settings.city_hours,
    }
    status = 410 if code == "payment_link_expired" else 404
    return _page(
        request,
        title,
        f'<section class="error"><p>{html.escape(text)}</p>'
        f"<p>{html.escape(help_text)}</p></section>",
        status=status,
    )


def _payer(request: Request) -> Payer:
    st = state(request)
    return Payer(st.session_factory, gateway=st.gateway, clock=st.clock, settings=st.settings)


def _slow_down(request: Request) -> float:
    return pay_wait(request)


def _too_many(request: Request, wait: float) -> HTTPResponse:
    settings = state(request).settings
    text = error_message(
        "rate_limited", city_phone=settings.city_phone, city_hours=settings.city_hours
    )
    response = _page(
        request,
        _("Trop de demandes"),
        f'<section class="error"><p>{html.escape(text)}</p></section>',
        429,
    )
    response.headers["Retry-After"] = retry_after(wait)
    return response


@bp.get("/<token:str>")
@openapi.summary("The hosted payment page of a payment link")
@documented(None, html=True, refusals=(404, 410, 429, 503))
async def show(request: Request, token: str) -> HTTPResponse:
    if wait := _slow_down(request):
        return _too_many(request, wait)
    if len(token) > 64:
        return _problem_page("not_found", request)
    try:
        page = await state(request).run_sync(lambda: _payer(request).open_page(token))
    except RegistrationError as error:
        return _problem_page(error.code, request)
    except GatewayError:
        return _unavailable(request)
    return _page(
        request, _("Paiement sécurisé"), _form(request, token, page.view, page.client_secret)
    )


def _unavailable(request: Request) -> HTTPResponse:
    text = _(
        "Le paiement en ligne est momentanément indisponible. Aucun montant n'a été prélevé. "
        "Vous pouvez réessayer dans quelques minutes avec le même lien."
    )
    return _page(
        request,
        _("Paiement sécurisé"),
        f'<section class="error"><p>{html.escape(text)}</p></section>',
        503,
    )


def _answer(outcome: PayOutcome) -> HTTPResponse:
    amount = format_money(outcome.amount_cents)
    if outcome.status == "paid":
        message = _(
            "Paiement de %(amount)s reçu. Merci! Une confirmation vous est envoyée par texto ou "
            "par courriel. Vous pouvez fermer cette page et revenir à la conversation."
        ) % {"amount": amount}
    elif outcome.status == "refunded":
        message = _(
            "Les places n'étaient plus libres quand le paiement est arrivé : les %(amount)s "
            "vous sont remboursés en entier. Un message vous est envoyé avec les détails."
        ) % {"amount": amount}
    elif outcome.status == "declined":
        message = _texts()["declined"]
    else:
        message = ""
    body: dict[str, Any] = {"status": outcome.status, "message": message}
    if outcome.client_secret:
        body["client_secret"] = outcome.client_secret
    return ok(body, status=402 if outcome.status == "declined" else 200)


def _field(request: Request, name: str, prefix: str) -> str:
    try:
        value = loads(request.body or b"{}").get(name)
    except (ValueError, AttributeError):
        value = None
    if not isinstance(value, str) or not value.startswith(prefix) or len(value) > 64:
        raise RegistrationError("not_found")
    return value


@bp.post("/<token:str>/pay")
@openapi.summary("Pay the link's installment with a card-setup session the page confirmed")
@documented(PayResult, body=PaySetup, refusals=(402, 404, 410, 429, 503))
async def pay(request: Request, token: str) -> HTTPResponse:
    if wait := _slow_down(request):
        response = error_response(state(request).settings, "rate_limited", 429)
        response.headers["Retry-After"] = retry_after(wait)
        return response
    setup_id = _field(request, "setup_id", "seti_")
    try:
        outcome = await state(request).run_sync(lambda: _payer(request).pay(token, setup_id))
    except GatewayError:
        return ok({"status": "failed", "message": _texts()["failed"]}, status=503)
    return _answer(outcome)


@bp.post("/<token:str>/done")
@openapi.summary("After the card's authentication step: record what became of the payment")
@documented(PayResult, body=PayDone, refusals=(402, 404, 410, 429, 503))
async def done(request: Request, token: str) -> HTTPResponse:
    if wait := _slow_down(request):
        response = error_response(state(request).settings, "rate_limited", 429)
        response.headers["Retry-After"] = retry_after(wait)
        return response
    payment_id = _field(request, "payment_id", "pi_")
    try:
        outcome = await state(request).run_sync(lambda: _payer(request).finish(token, payment_id))
    except GatewayError:
        return ok({"status": "failed", "message": _texts()["failed"]}, status=503)
    return _answer(outcome)
