"""The staff's page `/staff` (docs/STAFF.md "Live view"): a login form, then registration
night's figures, updated live from `GET /api/staff/live/events`.

The page itself holds nothing private: anyone may load it, the figures come from the staff
routes (cookie `staff_session`, scoped to /api/staff). Its sentences are here, in the
"messages" catalog; staff.js reads them and its settings from a JSON block and formats the
numbers in fr-CA (Intl).
"""

from __future__ import annotations

import html
from string import Template
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic.response import html as html_response
from sanic_ext import openapi

from backend.api.app_state import state
from backend.api.openapi_doc import documented
from backend.api.web import WEB_DIR, script_json
from backend.i18n import N_, _

bp = Blueprint("staff_page")

# Sentences of the HTML itself.
_PAGE = {
    "title": N_("Inscriptions en direct — personnel de la Ville"),
    "skip": N_("Aller au contenu"),
    "heading": N_("Soirée d'inscriptions en direct"),
    "login_title": N_("Connexion du personnel"),
    "login_intro": N_("Connectez-vous avec votre compte du personnel de la Ville."),
    "username": N_("Nom d'utilisateur"),
    "password": N_("Mot de passe"),
    "login": N_("Se connecter"),
    "logout": N_("Se déconnecter"),
    "summary": N_("En bref"),
    "waiting_room": N_("Salle d'attente"),
    "heat_map": N_("Taux de remplissage par groupe et par semaine"),
    "legend": N_(
        "Chaque case donne le taux de remplissage, les places prises sur la capacité et, s'il y "
        "a lieu, le nombre d'enfants en liste d'attente. Plus la case est foncée, plus le "
        "groupe est plein."
    ),
    "waitlists": N_("Listes d'attente"),
    "payments": N_("Paiements"),
    "noscript": N_("Cette page a besoin de JavaScript pour afficher les chiffres en direct."),
}

# Sentences staff.js shows; %(name)s are filled in by the script.
_SCRIPT = {
    "login_failed": N_("Nom d'utilisateur ou mot de passe incorrect."),
    "network": N_("Le serveur ne répond pas. Réessayez dans un instant."),
    "forbidden": N_("Votre rôle ne permet pas de voir cette page."),
    "logged_in_as": N_("Connecté : %(username)s"),
    "live": N_("En direct — mis à jour à %(time)s"),
    "reconnecting": N_("Connexion perdue, reconnexion en cours…"),
    "ended": N_("Votre session a pris fin. Connectez-vous de nouveau."),
    "group": N_("Groupe"),
    "week": N_("Semaine %(number)s"),
    "term": N_("Session"),
    "places": N_("%(taken)s sur %(capacity)s"),
    "places_label": N_("places prises"),
    "full": N_("Complet"),
    "waiting_n": N_("%(count)s en attente"),
    "season": N_("Saison"),
    "total_fill": N_("Places prises"),
    "total_fill_value": N_("%(taken)s sur %(capacity)s (%(rate)s)"),
    "full_sessions": N_("Groupes-semaines complets"),
    "total_waitlist": N_("Enfants en liste d'attente"),
    "received": N_("Versements reçus"),
    "no_rush": N_("Aucune salle d'attente ouverte pour cette saison."),
    "rush_state": N_("État"),
    "phase_pre_queue": N_("Avant l'ouverture (préfile)"),
    "phase_running": N_("En cours"),
    "phase_paused": N_("En pause"),
    "phase_closed": N_("Fermée"),
    "pre_queue": N_("Familles en préfile"),
    "waiting": N_("Familles dans la file"),
    "registering": N_("Familles en train de s'inscrire"),
    "admitted_per_minute": N_("Familles admises par minute"),
    "estimated_wait": N_("Attente estimée pour une famille qui arrive"),
    "minutes": N_("%(count)s min"),
    "unknown": N_("inconnue"),
    "rate_cap": N_("Débit et plafond"),
    "rate_cap_value": N_("%(rate)s par minute, au plus %(cap)s à la fois"),
    "no_waitlist": N_("Aucune liste d'attente pour le moment."),
    "program": N_("Activité"),
    "session": N_("Semaine ou session"),
    "waiting_children": N_("En attente"),
    "status": N_("État des commandes"),
    "orders": N_("Commandes"),
    "amount": N_("Montant"),
    "status_awaiting_payment": N_("En attente de paiement"),
    "status_partially_paid": N_("Payées en partie"),
    "status_paid": N_("Payées"),
    "status_deferred": N_("Paiement différé"),
    "status_expired": N_("Expirées"),
    "status_refunded": N_("Remboursées"),
    "status_cancelled": N_("Annulées"),
    "no_orders": N_("Aucune commande pour le moment."),
    "plot_places": N_("Places prises par minute, 30 dernières minutes"),
    "plot_payments": N_("Versements reçus par minute, 30 dernières minutes"),
    "plot_admissions": N_("Familles admises par minute, 30 dernières minutes"),
    "plot_summary": N_("Total : %(total)s ; au plus %(max)s en une minute, à %(time)s."),
    "plot_empty": N_("Aucun pendant ces 30 minutes."),
}


def render(city: str) -> str:
    values: dict[str, str] = {key: html.escape(_(text)) for key, text in _PAGE.items()}
    values["city"] = html.escape(city)
    config: dict[str, Any] = {
        "api": "/api/staff",
        "locale": "fr-CA",
        "timeZone": "America/Toronto",
        "strings": {key: _(text) for key, text in _SCRIPT.items()},
    }
    values["config_json"] = script_json(config)
    template = Template((WEB_DIR / "templates" / "staff.html").read_text(encoding="utf-8"))
    return template.substitute(values)


@bp.get("/staff")
@openapi.summary("The staff's live view of registration night (login, then the figures)")
@documented(None, html=True)
async def page(request: Request) -> HTTPResponse:
    return html_response(
        render(state(request).settings.city_name),
        headers={
            "Content-Security-Policy": "default-src 'self'; script-src 'self'; "
            "style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
            "Cache-Control": "no-store",
        },
    )
