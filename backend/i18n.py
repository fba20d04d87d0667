"""Québec French for everything the backend says to a parent.

Sentences are written in French in the code and marked with `_()` / `N_()` so that
`pybabel extract -F babel.cfg` collects them into `locales/messages.pot`; each locale's catalog
(`locales/<locale>/LC_MESSAGES/messages.po`) translates them (fr_CA is the identity, en_CA comes
later). A compiled `messages.mo` is used when present; otherwise the `.po` is compiled in memory
at first use, so a fresh clone works without a build step.

Numbers, money and dates always go through babel with locale fr_CA: "95,00 $",
"lundi 28 juin 2027", "19 h". SMS bodies are passed through `plain()` (no-break spaces and curly
apostrophes would switch the whole text message to UCS-2 and triple its cost).
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Mapping
from datetime import date, datetime, time
from functools import lru_cache
from pathlib import Path

from babel.dates import format_date as _babel_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency
from babel.support import Translations

DOMAIN = "messages"
DEFAULT_LOCALE = "fr_CA"
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"


def N_(message: str) -> str:
    """Mark a sentence for extraction without translating it yet (translated at use)."""
    return message


@lru_cache(maxsize=8)
def translations(locale: str = DEFAULT_LOCALE) -> gettext.NullTranslations:
    folder = LOCALES_DIR / locale / "LC_MESSAGES"
    mo = folder / f"{DOMAIN}.mo"
    po = folder / f"{DOMAIN}.po"
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as fp:
            return Translations(fp, domain=DOMAIN)
    if po.exists():
        # No compiled catalog (fresh clone) or a stale one: compile the .po in memory.
        with po.open("rb") as fp:
            catalog = read_po(fp, locale=locale, domain=DOMAIN)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        return Translations(buffer, domain=DOMAIN)
    return gettext.NullTranslations()


def _(message: str) -> str:
    return translations().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations().ngettext(singular, plural, n)


# --------------------------------------------------------------------------- formats


def format_money(cents: int) -> str:
    """12345 -> "123,45 $" (babel puts a no-break space before the dollar sign)."""
    return format_currency(cents / 100, "CAD", locale=DEFAULT_LOCALE)


def format_date(d: date) -> str:
    """date(2027, 6, 28) -> "lundi 28 juin 2027"."""
    return _babel_date(d, "EEEE d MMMM y", locale=DEFAULT_LOCALE)


def format_day_month(d: date) -> str:
    """date(2027, 6, 28) -> "28 juin" (week ranges: "du 28 juin au 2 juillet")."""
    return _babel_date(d, "d MMMM", locale=DEFAULT_LOCALE)


def format_time(t: time | datetime) -> str:
    """19:00 -> "19 h"; 8:30 -> "8 h 30" (Québec usage)."""
    if t.minute == 0:
        return f"{t.hour} h"
    return f"{t.hour} h {t.minute:02d}"


_PLAIN = str.maketrans(
    {
        "\u00a0": " ",  # no-break space (babel, before "$")
        "\u202f": " ",  # narrow no-break space
        "\u2019": "'",  # curly apostrophe
        "\u2018": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
    }
)


def plain(text: str) -> str:
    """Text safe for an SMS: characters that would force UCS-2 replaced by GSM-7 ones."""
    return text.translate(_PLAIN)


# GSM 03.38 basic set and its extension table (an extension character costs two septets).
_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = set("^{}\\[~]|€\f")


def sms_segments(text: str) -> int:
    """SMS parts `text` costs: GSM-7 160/153, or UCS-2 70/67 if any character is outside it."""
    if all(c in _GSM_BASIC or c in _GSM_EXTENDED for c in text):
        units = sum(2 if c in _GSM_EXTENDED else 1 for c in text)
        single, multi = 160, 153
    else:
        # UTF-16 code units: an emoji counts twice.
        units = len(text.encode("utf-16-le")) // 2
        single, multi = 70, 67
    if units <= single:
        return 1
    return -(-units // multi)


# --------------------------------------------------------------------------- error messages

# Every error code of docs/API.md with the sentence the bot may show as is. Never blame the parent:
# say what happened and what can be done.
_ERROR_MESSAGES: dict[str, str] = {
    "unauthorized": N_(
        "Votre session n'est plus active. Pour continuer, il faut confirmer votre identité de "
        "nouveau."
    ),
    "forbidden": N_("Cette action n'est pas offerte pour ce dossier."),
    "not_found": N_(
        "Je n'ai pas trouvé cet élément. Il a peut-être déjà été retiré ou n'est plus disponible."
    ),
    "invalid_request": N_(
        "Certains renseignements sont manquants ou ne sont pas dans le format attendu. "
        "Pouvez-vous les vérifier?"
    ),
    "account_pending": N_(
        "Votre dossier familial est en attente d'approbation par la Ville. Dès qu'il sera "
        "approuvé, vous pourrez inscrire vos enfants. Pour toute question : %(city_phone)s, "
        "%(city_hours)s."
    ),
    "account_locked": N_(
        "Votre dossier familial est temporairement suspendu. Le service des loisirs peut vous "
        "aider au %(city_phone)s, %(city_hours)s."
    ),
    "registration_not_open": N_(
        "Les inscriptions ne sont pas encore ouvertes pour votre dossier. Elles ouvriront le "
        "%(date)s à %(time)s."
    ),
    "not_eligible": N_(
        "Cette activité s'adresse aux enfants de %(min_age)s à %(max_age)s ans au "
        "%(reference_date)s. À cette date, votre enfant aura %(age)s ans."
    ),
    "session_full": N_("Ce groupe est complet pour cette période."),
    "option_full": N_("Il n'y a plus de place pour l'option « %(option)s » cette semaine-là."),
    "already_registered": N_(
        "Cet enfant a déjà une place (ou une demande en cours) pour cette période."
    ),
    "overlapping_session": N_(
        "Cet enfant a déjà une place au même moment : %(program)s, %(group)s. Un enfant ne "
        "peut pas être à deux endroits à la fois."
    ),
    "cart_empty": N_("Le panier est vide pour le moment."),
    "waitlist_only": N_(
        "Le panier ne contient que des demandes en liste d'attente : il n'y a rien à payer pour "
        "l'instant. Vous serez avisé dès qu'une place se libère."
    ),
    "terms_not_accepted": N_(
        "Pour passer la commande, il faut d'abord accepter les modalités de paiement."
    ),
    "installments_not_allowed": N_(
        "Le paiement en deux versements n'est pas offert pour ce panier."
    ),
    "code_invalid": N_("Ce code ne correspond pas à celui envoyé."),
    "code_expired": N_("Ce code a expiré. Je peux vous en envoyer un nouveau."),
    "challenge_locked": N_(
        "Pour protéger votre dossier, la vérification est bloquée après plusieurs essais. Vous "
        "pouvez recommencer l'identification, ou joindre le service des loisirs au "
        "%(city_phone)s, %(city_hours)s."
    ),
    "resend_limit": N_(
        "Le nombre maximal d'envois de code est atteint. Vous pouvez recommencer "
        "l'identification, ou joindre le service des loisirs au %(city_phone)s, %(city_hours)s."
    ),
    "rate_limited": N_(
        "Trop de demandes ont été faites en peu de temps. Par prudence, veuillez patienter "
        "quelques minutes avant de réessayer, ou joindre le service des loisirs au "
        "%(city_phone)s, %(city_hours)s."
    ),
    "payment_link_expired": N_(
        "Ce lien de paiement a expiré. Les places réservées ont peut-être été libérées : vous "
        "pouvez refaire la commande."
    ),
    "already_cancelled": N_("Cette inscription est déjà annulée."),
    "activity_started": N_(
        "Cette activité a commencé le %(starts_on)s : elle ne peut plus être annulée ici. Le "
        "service des loisirs peut vous aider au %(city_phone)s, %(city_hours)s."
    ),
    "nothing_due": N_("Il n'y a rien à payer pour cette commande."),
    "places_released": N_(
        "Les places de cette commande ont été libérées et ne sont plus libres : il faut "
        "refaire l'inscription."
    ),
    "conflict": N_("Cette demande entre en conflit avec une autre. Veuillez réessayer."),
    "internal_error": N_(
        "Un problème technique est survenu de notre côté. Veuillez réessayer dans un instant."
    ),
    # City staff (backend/domain/roles.py): never the parents' "votre session" sentence.
    "staff_unauthorized": N_(
        "Connexion du personnel requise. Veuillez vous connecter avec votre compte du "
        "personnel de la Ville."
    ),
    "staff_login_failed": N_("Le nom d'utilisateur ou le mot de passe est incorrect."),
    "staff_forbidden": N_("Votre rôle ne permet pas cette action."),
    "staff_csrf": N_(
        "Cette demande n'a pas pu être vérifiée. Veuillez recharger la page, puis réessayer."
    ),
    "family_has_active_lines": N_(
        "Ce dossier a encore des places réservées ou payées (%(lines)s) : ses données n'ont "
        "pas été supprimées. Pour les supprimer quand même, relancez la commande avec --force."
    ),
    "staff_username_taken": N_("Ce nom d'utilisateur est déjà utilisé."),
}

_INSTALLMENT_REASONS: dict[str, str] = {
    "not_day_camp": N_(
        "Le paiement en deux versements est offert seulement quand le panier ne contient que "
        "du camp de jour."
    ),
    "below_minimum": N_(
        "Le paiement en deux versements est offert à partir d'un total de %(minimum)s."
    ),
    "too_close_to_start": N_(
        "Le camp commence trop tôt pour qu'un deuxième versement soit prévu : le paiement se "
        "fait en une fois."
    ),
}


def _fmt_value(value: object) -> object:
    if isinstance(value, datetime):
        return format_date(value.date())
    if isinstance(value, date):
        return format_date(value)
    return value


def error_message(
    code: str,
    extra: Mapping[str, object] | None = None,
    *,
    city_phone: str = "",
    city_hours: str = "",
) -> str:
    """The French sentence for an error code, filled with the error's details when it has any."""
    extra = dict(extra or {})
    if code == "installments_not_allowed" and str(extra.get("reason")) in _INSTALLMENT_REASONS:
        template = _(_INSTALLMENT_REASONS[str(extra["reason"])])
        values: dict[str, object] = {"minimum": format_money(10000)}
    elif code == "code_invalid" and isinstance(extra.get("attempts_left"), int):
        left = int(extra["attempts_left"])  # type: ignore[call-overload]
        return " ".join(
            (
                _(_ERROR_MESSAGES["code_invalid"]),
                ngettext("Il vous reste %(n)d essai.", "Il vous reste %(n)d essais.", left)
                % {"n": left},
            )
        )
    else:
        template = _(_ERROR_MESSAGES.get(code, _ERROR_MESSAGES["internal_error"]))
        values = {k: _fmt_value(v) for k, v in extra.items()}
    values.setdefault("city_phone", city_phone)
    values.setdefault("city_hours", city_hours)
    if code == "registration_not_open" and "opens_at" in extra:
        opens = extra["opens_at"]
        if isinstance(opens, str):
            try:
                opens = datetime.fromisoformat(opens)
            except ValueError:
                opens = None
        if isinstance(opens, datetime):
            from backend.adapters.clock import to_local

            local = to_local(opens) if opens.tzinfo is None else opens
            values["date"] = format_date(local.date())
            values["time"] = format_time(local.time())
    if code == "option_full" and "option" in extra:
        values["option"] = option_label(str(extra["option"]))
    try:
        return template % values
    except (KeyError, ValueError, TypeError):
        # A detail is missing: the generic sentence for the code is still better than nothing.
        return template.split("%(")[0].rstrip(" :,")


_OPTION_LABELS = {"garde": N_("service de garde"), "velo": N_("transport à vélo")}


def option_label(code: str) -> str:
    return _(_OPTION_LABELS[code]) if code in _OPTION_LABELS else code


def field_message(kind: str) -> str:
    """French explanation of one invalid field (request validation)."""
    return _(_FIELD_MESSAGES.get(kind, _FIELD_MESSAGES["invalid"]))


_FIELD_MESSAGES: dict[str, str] = {
    "missing": N_("Ce renseignement est requis."),
    "invalid": N_("Cette valeur n'est pas dans le format attendu."),
    "too_long": N_("Cette valeur est trop longue."),
    "not_json": N_("Le contenu de la demande n'a pas pu être lu."),
    "bad_date": N_("Cette date n'est pas valide."),
    "bad_phone": N_("Ce numéro de téléphone n'est pas dans un format reconnu."),
    "bad_number": N_("Cette valeur doit être un nombre entier."),
}
