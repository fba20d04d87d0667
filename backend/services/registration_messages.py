"""The French text of the messages that place a child: a waitlist offer, and the confirmation
of a payment (what was paid today, what is still due and when, the lines still waiting).

Every sentence comes from the locale catalogs; amounts, dates and lists through babel. A text
message says "Détails par courriel" only to a family that has a courriel on file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from babel.lists import format_list

from backend.db.notifications import Channel
from backend.i18n import DEFAULT_LOCALE, _, format_money, ngettext
from backend.services import message_format as fmt


def _form(cents: int) -> int:
    """The count French grammar agrees with: under 2 $ is singular ("1,50 $ payé")."""
    return 1 if cents < 200 else 2


def money_summary(p: Mapping[str, Any]) -> str:
    """ "142,50 $ payés aujourd'hui avec la carte se terminant par 4242 ; 142,50 $ seront
    prélevés le 21 mai 2027." """
    now = fmt.cents(p, "paid_now_cents") if "paid_now_cents" in p else fmt.cents(p, "paid_cents")
    last4 = p.get("card_last4")
    if last4:
        paid = ngettext(
            "%(amount)s payé aujourd'hui avec la carte se terminant par %(last4)s",
            "%(amount)s payés aujourd'hui avec la carte se terminant par %(last4)s",
            _form(now),
        )
    else:
        paid = ngettext("%(amount)s payé aujourd'hui", "%(amount)s payés aujourd'hui", _form(now))
    parts = [paid % {"amount": format_money(now), "last4": last4}]
    # Only a card kept with the parent's consent is charged later (the digits alone say
    # nothing of that).
    card_saved = bool(p.get("card_saved"))
    for d in p.get("due") or []:
        cents = int(d["amount_cents"])
        values = {"amount": format_money(cents), "date": fmt.day_month_year(d["due_on"])}
        if card_saved:
            text = ngettext(
                "%(amount)s sera prélevé le %(date)s",
                "%(amount)s seront prélevés le %(date)s",
                _form(cents),
            )
        else:
            text = ngettext(
                "%(amount)s reste à payer d'ici le %(date)s (un lien vous sera envoyé)",
                "%(amount)s restent à payer d'ici le %(date)s (un lien vous sera envoyé)",
                _form(cents),
            )
        parts.append(text % values)
    return " ; ".join(parts) + "."


def _waiting_text(entry: Mapping[str, Any]) -> str:
    values = {
        "child": entry.get("child", ""),
        "program": entry.get("program", ""),
        "week": entry.get("week", ""),
        "rank": entry.get("rank", ""),
    }
    if entry.get("rank") is None:
        return _("%(child)s, %(program)s, semaine %(week)s") % values
    return _("%(child)s, %(program)s, semaine %(week)s (rang %(rank)s)") % values


def waiting_summary(p: Mapping[str, Any]) -> str:
    entries: Sequence[Mapping[str, Any]] = p.get("waitlisted") or []
    if not entries:
        return ""
    listing = format_list([_waiting_text(e) for e in entries], locale=DEFAULT_LOCALE)
    return ngettext(
        "Toujours sur la liste d'attente : %(entries)s.",
        "Toujours sur les listes d'attente : %(entries)s.",
        len(entries),
    ) % {"entries": listing}


def render_confirmation(p: Mapping[str, Any], channel: Channel) -> fmt.Rendered:
    lines: Sequence[Mapping[str, Any]] = p.get("lines") or []
    n = len(lines)
    if channel is Channel.SMS:
        children = format_list(
            list(dict.fromkeys(str(line.get("child", "")) for line in lines)),
            locale=DEFAULT_LOCALE,
        )
        closing = (
            _("Détails par courriel. Pensez à la fiche santé avant le début de l'activité.")
            if p.get("has_email", True)
            else _("Pensez à la fiche santé avant le début de l'activité.")
        )
        return fmt.sms(
            ngettext(
                "%(city)s : inscription confirmée pour %(children)s.",
                "%(city)s : %(n)d inscriptions confirmées pour %(children)s.",
                n,
            )
            % {"city": fmt.branding().city_name, "children": children, "n": n},
            money_summary(p),
            waiting_summary(p),
            closing,
        )
    listing = "\n".join("• " + fmt.line_text(line) for line in lines)
    return fmt.email(
        ngettext("Inscription confirmée", "Inscriptions confirmées", n),
        ngettext("Votre inscription est confirmée :", "Vos inscriptions sont confirmées :", n)
        + "\n"
        + listing,
        money_summary(p),
        waiting_summary(p),
        _(
            "N'oubliez pas de remplir ou de mettre à jour la fiche santé de chaque enfant "
            "avant le début de l'activité."
        ),
    )


def render_waitlist_offer(p: Mapping[str, Any], channel: Channel) -> fmt.Rendered:
    values = {
        "child": p.get("child", ""),
        "program": p.get("program", ""),
        "week": p.get("week", ""),
        "site": p.get("site", ""),
        "group": p.get("group", ""),
        "period": fmt.period(p["starts_on"], p["ends_on"]) if p.get("starts_on") else "",
        "deadline": fmt.when(p["deadline"]),
        "url": p.get("url", ""),
    }
    deferred = bool(p.get("deferred"))
    if channel is Channel.SMS:
        if deferred:
            how = _(
                "Elle vous est réservée jusqu'au %(deadline)s. Pour la garder, passez la "
                "commande : aucun paiement n'est demandé pour l'instant."
            )
            return fmt.sms(_sms_intro() % values, how % values)
        return fmt.sms(
            _sms_intro() % values,
            _("Elle vous est réservée jusqu'au %(deadline)s. Pour la payer :") % values,
            str(values["url"]),
        )
    how = (
        _(
            "Elle vous est réservée jusqu'au %(deadline)s. Pour la garder, passez la commande "
            "avec l'assistant : aucun paiement n'est demandé pour l'instant, le lien de "
            "paiement suivra quand la Ville ouvrira les paiements."
        )
        if deferred
        else _(
            "Elle vous est réservée jusqu'au %(deadline)s. Pour la confirmer, payez ici :\n%(url)s"
        )
    )
    return fmt.email(
        _("Une place s'est libérée pour %(child)s") % values,
        _(
            "Une place s'est libérée sur la liste d'attente : %(child)s, %(program)s, %(group)s, "
            "%(site)s, semaine %(week)s (%(period)s)."
        )
        % values,
        how % values,
        _("Passé ce délai, la place sera offerte à la personne suivante sur la liste."),
    )


def _sms_intro() -> str:
    return _(
        "Bonne nouvelle : une place s'est libérée pour %(child)s, %(program)s, semaine "
        "%(week)s (%(period)s)."
    )
