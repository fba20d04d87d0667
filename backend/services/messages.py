"""The French text of every notification, per kind and channel.

Every sentence comes from the locale catalogs (`backend.i18n`). An SMS is short (at most 3
segments) and never carries health data; a courriel has a subject and a fuller body. A kind
also says until when its content holds (`content_expires_at`): a one-time code, a payment link or
a waitlist offer is never worth delivering once it has lapsed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from backend.db.notifications import Channel
from backend.i18n import _, format_date, format_money, ngettext
from backend.services import message_format as fmt
from backend.services import registration_messages
from backend.services.admission_messages import render_admission
from backend.services.health_messages import render_health_reminder


def _render_otp(p: Mapping[str, Any], channel: Channel) -> fmt.Rendered:
    values = {
        "code": p["code"],
        "minutes": fmt.branding().otp_minutes,
        "city": fmt.branding().city_name,
    }
    if channel is Channel.SMS:
        return fmt.sms(
            _(
                "%(city)s : votre code de vérification est %(code)s. Il expire dans %(minutes)s "
                "minutes. Ne le communiquez à personne."
            )
            % values
        )
    return fmt.email(
        _("Votre code de vérification : %(code)s") % values,
        _(
            "Voici le code demandé pour confirmer votre identité auprès du service des "
            "inscriptions : %(code)s"
        )
        % values,
        _(
            "Il expire dans %(minutes)s minutes. Si vous n'avez rien demandé, vous pouvez ignorer "
            "ce courriel : votre dossier reste protégé."
        )
        % values,
    )


def _render_payment_link(p: Mapping[str, Any], channel: Channel) -> fmt.Rendered:
    values = {
        "order": p.get("order_id", ""),
        "total": format_money(fmt.cents(p, "total_cents")),
        "now": format_money(fmt.cents(p, "due_now_cents")),
        "url": p["url"],
    }
    plan = _("Montant à payer : %(now)s.") % values
    second = fmt.second_installment(p.get("installments"))
    if second is not None:
        plan = _("Paiement en 2 versements : %(now)s maintenant, %(rest)s le %(due_on)s.") % {
            **values,
            **second,
        }
    if channel is Channel.SMS:
        return fmt.sms(
            _("%(city)s : commande %(order)s, total %(total)s.")
            % {**values, "city": fmt.branding().city_name},
            plan,
            _("Pour payer :"),
            str(p["url"]),
        )
    return fmt.email(
        _("Votre lien de paiement – commande %(order)s") % values,
        _("Votre commande %(order)s est prête. Total : %(total)s.") % values,
        plan,
        _("Pour payer en ligne de façon sécurisée, ouvrez ce lien :\n%(url)s") % values,
        _(
            "Les places restent réservées pendant quelques minutes seulement : si le lien expire, "
            "il suffit de refaire la commande."
        ),
    )


def _render_installment_failed(p: Mapping[str, Any], channel: Channel) -> fmt.Rendered:
    values = {"amount": format_money(fmt.cents(p, "amount_cents")), "url": p["url"]}
    if channel is Channel.SMS:
        return fmt.sms(
            _(
                "%(city)s : le versement de %(amount)s n'a pas pu être prélevé sur la carte "
                "enregistrée. Pour le régler :"
            )
            % {**values, "city": fmt.branding().city_name},
            str(p["url"]),
        )
    return fmt.email(
        _("Versement à régler : %(amount)s") % values,
        _(
            "Le versement de %(amount)s prévu aujourd'hui n'a pas pu être prélevé sur la carte "
            "enregistrée. Cela arrive, par exemple quand une carte a expiré."
        )
        % values,
        _("Pour le régler en ligne :\n%(url)s") % values,
    )


def _render_late_payment_refunded(p: Mapping[str, Any], channel: Channel) -> fmt.Rendered:
    values = {"amount": format_money(fmt.cents(p, "amount_cents"))}
    text = (
        _(
            "Votre paiement est arrivé après l'expiration de la réservation et les places ont "
            "été prises entre-temps. Le montant de %(amount)s vous est remboursé en entier."
        )
        % values
    )
    if channel is Channel.SMS:
        return fmt.sms(
            text,
            _("Vous pouvez rejoindre la liste d'attente en nous écrivant."),
        )
    return fmt.email(
        _("Remboursement de %(amount)s") % values,
        text,
        _(
            "Si vous le souhaitez, vous pouvez rejoindre la liste d'attente en nous écrivant : "
            "vous serez avisé dès qu'une place se libère."
        ),
    )


def _render_deferred_registered(p: Mapping[str, Any], channel: Channel) -> fmt.Rendered:
    lines: Sequence[Mapping[str, Any]] = p.get("lines") or []
    n = len(lines)
    why = _(
        "Aucun montant n'est prélevé maintenant : la Ville enverra un lien de paiement quand "
        "la période de paiement commencera."
    )
    if channel is Channel.SMS:
        return fmt.sms(
            ngettext(
                "%(city)s : demande d'inscription reçue pour %(children)s.",
                "%(city)s : %(n)d demandes d'inscription reçues pour %(children)s.",
                n,
            )
            % {"city": fmt.branding().city_name, "children": fmt.children(lines), "n": n},
            why,
        )
    listing = "\n".join("• " + fmt.line_text(line) for line in lines)
    return fmt.email(
        ngettext("Demande d'inscription reçue", "Demandes d'inscription reçues", n),
        ngettext("Votre demande est enregistrée :", "Vos demandes sont enregistrées :", n)
        + "\n"
        + listing,
        why,
    )


def _render_offer_expired(p: Mapping[str, Any], channel: Channel) -> fmt.Rendered:
    values = {
        "child": p.get("child", ""),
        "program": p.get("program", ""),
        "week": p.get("week", ""),
    }
    text = (
        _(
            "La place offerte pour %(child)s (%(program)s, semaine %(week)s) n'a pas été payée à "
            "temps : elle a été offerte à la personne suivante sur la liste d'attente."
        )
        % values
    )
    if channel is Channel.SMS:
        return fmt.sms(text)
    return fmt.email(_("Place offerte expirée"), text)


def _render_registration_cancelled(p: Mapping[str, Any], channel: Channel) -> fmt.Rendered:
    line: Mapping[str, Any] = p.get("line") or {}
    refunded = fmt.cents(p, "refunded_cents")
    cancelled: Sequence[Mapping[str, Any]] = p.get("cancelled_installments") or []
    remaining: Sequence[Mapping[str, Any]] = p.get("remaining_due") or []
    values = {
        "child": line.get("child", ""),
        "program": line.get("program", ""),
        "week": line.get("week", ""),
        "period": fmt.period(line["starts_on"], line["ends_on"]) if line.get("starts_on") else "",
        "amount": format_money(refunded),
        "city": fmt.branding().city_name,
    }
    refund_text = (
        _(
            "Un remboursement de %(amount)s sera versé sur la carte utilisée pour le paiement, "
            "d'ici quelques jours ouvrables."
        )
        % values
        if refunded
        else ""
    )
    cancelled_text = "\n".join(
        _("Le versement de %(amount)s prévu le %(date)s est annulé : il ne sera pas prélevé.")
        % {
            "amount": format_money(int(c["amount_cents"])),
            "date": format_date(fmt.as_date(c["due_on"])),
        }
        for c in cancelled
    )
    remaining_text = "\n".join(
        _("Le versement prévu le %(date)s est maintenant de %(amount)s.")
        % {
            "amount": format_money(int(d["amount_cents"])),
            "date": format_date(fmt.as_date(d["due_on"])),
        }
        for d in remaining
    )
    if channel is Channel.SMS:
        return fmt.sms(
            _(
                "%(city)s : l'inscription de %(child)s (%(program)s, semaine %(week)s) a été "
                "annulée par le service des loisirs."
            )
            % values,
            refund_text,
            _("Détails par courriel.") if cancelled or remaining else "",
        )
    return fmt.email(
        _("Inscription annulée : %(child)s") % values,
        _(
            "Le service des loisirs a annulé l'inscription de %(child)s : %(program)s, semaine "
            "%(week)s (%(period)s)."
        )
        % values,
        refund_text,
        cancelled_text,
        remaining_text,
        _("Pour toute question, n'hésitez pas à nous joindre."),
    )


def _render_payment_amount_refunded(p: Mapping[str, Any], channel: Channel) -> fmt.Rendered:
    values = {
        "amount": format_money(fmt.cents(p, "amount_cents")),
        "due": format_money(fmt.cents(p, "due_cents")),
        "city": fmt.branding().city_name,
    }
    text = (
        _(
            "Nous avons reçu un paiement de %(amount)s, alors que le montant dû est de %(due)s. "
            "Ce paiement ne peut pas confirmer l'inscription : il vous est remboursé en entier."
        )
        % values
    )
    if channel is Channel.SMS:
        return fmt.sms(
            f"{fmt.branding().city_name} : {text}",
            _("Pour payer le bon montant :"),
            str(p.get("url", "")),
        )
    return fmt.email(
        _("Paiement remboursé : %(amount)s") % values,
        text,
        _("Pour payer le montant dû, utilisez ce lien tant qu'il est valide :\n%(url)s")
        % {"url": p.get("url", "")},
        _("Si le lien a expiré, il suffit de refaire la commande ou de nous joindre."),
    )


def _render_account_approved(p: Mapping[str, Any], channel: Channel) -> fmt.Rendered:
    text = _("Votre dossier familial est approuvé : vous pouvez maintenant inscrire vos enfants.")
    number = str(p.get("client_number") or "")
    # A file opened by chat has never had a card: the number is what identifies it from now on.
    parts = [_("Votre numéro de client : %(number)s.") % {"number": number}] if number else []
    if channel is Channel.SMS:
        return fmt.sms(f"{fmt.branding().city_name} : {text}", *parts)
    return fmt.email(_("Votre dossier familial est approuvé"), text, *parts)


_RENDERERS: dict[str, Callable[[Mapping[str, Any], Channel], fmt.Rendered]] = {
    "otp": _render_otp,
    "payment_link": _render_payment_link,
    "waitlist_offer": registration_messages.render_waitlist_offer,
    "confirmation": registration_messages.render_confirmation,
    "installment_failed": _render_installment_failed,
    "late_payment_refunded": _render_late_payment_refunded,
    "deferred_registered": _render_deferred_registered,
    "offer_expired": _render_offer_expired,
    "account_approved": _render_account_approved,
    "registration_cancelled": _render_registration_cancelled,
    "payment_amount_refunded": _render_payment_amount_refunded,
    "health_record_reminder": render_health_reminder,
    "admission": render_admission,
}

KINDS = frozenset(_RENDERERS)


def render(kind: str, params: Mapping[str, object], channel: Channel) -> fmt.Rendered:
    """The French text of message `kind` for `channel` (raises KeyError on an unknown kind)."""
    return _RENDERERS[kind](params, channel)


def _instant(value: object) -> datetime | None:
    """A naive-UTC instant from a param (datetime or ISO text, with or without offset)."""
    if value is None or value == "":
        return None
    try:
        instant = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return fmt.as_utc(instant)


def content_expires_at(kind: str, params: Mapping[str, object], now: datetime) -> datetime | None:
    """When message `kind` stops being true: a code past its validity, a payment link or an
    offer past its deadline would only mislead a parent. None: the message never lapses (a
    confirmation, a refund notice)."""
    if kind == "otp":
        return now + timedelta(minutes=fmt.branding().otp_minutes)
    if kind in ("payment_link", "installment_failed", "health_record_reminder", "admission"):
        return _instant(params.get("expires_at"))
    if kind == "waitlist_offer":
        return _instant(params.get("deadline"))
    return None
