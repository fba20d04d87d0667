"""The notifications outbox: what is written, to whom, and how it leaves.

`enqueue` is called inside the same database transaction as what it announces (an order
created, an offer made), so a message is never sent for something that rolled back, and never
lost for something that committed. The dispatcher (`dispatch_pending`) sends afterwards through
the SMS and courriel adapters and honours SMS opt-outs (the backend owns them: every sender,
bot replies included, asks `is_opted_out`).

Rendering: every sentence comes from the locale catalogs (`backend.i18n`). An SMS is short
(at most 3 segments), uses plain spaces (a no-break space would make it UCS-2), puts a link alone
on its line and never carries health data; a courriel has a subject and a fuller body.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from typing import Any, Protocol, TypeVar

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from backend.adapters.clock import Clock, to_local
from backend.db.models import Channel, Family, Notification, NotificationStatus, SmsOptOut
from backend.i18n import (
    _,
    format_date,
    format_day_month,
    format_money,
    format_time,
    ngettext,
    option_label,
    plain,
)

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3  # a failed send is retried by the next dispatcher passes, then left failed


# --------------------------------------------------------------------------- branding


@dataclass(frozen=True)
class Branding:
    city_name: str = "Ville de Val-Fleuri"
    city_phone: str = "418 555-0199"
    city_hours: str = "du lundi au vendredi, de 8 h 30 à 16 h 30"
    otp_minutes: int = 10


_branding = Branding()


def configure(branding: Branding) -> None:
    """Set the city's name and phone line used in messages (called by `create_app`)."""
    global _branding
    _branding = branding


# --------------------------------------------------------------------------- phones


_DIGITS = re.compile(r"\D+")


def normalize_phone(raw: str) -> str | None:
    """A phone number in E.164, or None if it cannot be one.

    "418-555-0101", "(418) 555-0101", "4185550101", "1 418 555 0101" and "+14185550101" all give
    "+14185550101" (North American numbers; other countries must come with their "+").
    """
    text = raw.strip()
    if not text or len(text) > 32:
        return None
    digits = _DIGITS.sub("", text)
    if text.startswith("+"):
        return f"+{digits}" if 8 <= len(digits) <= 15 else None
    if len(digits) == 10 and digits[0] not in "01":
        return f"+1{digits}"
    if len(digits) == 11 and digits[0] == "1" and digits[1] not in "01":
        return f"+{digits}"
    return None


def mask_phone(phone: str) -> str:
    """ "+14185550101" -> "***-***-0101" (enough for a parent to recognise their number)."""
    digits = _DIGITS.sub("", phone)
    return f"***-***-{digits[-4:]}" if len(digits) >= 4 else "***"


def mask_email(email: str) -> str:
    """ "julie.tremblay@example.com" -> "j***@example.com"."""
    local, _sep, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


# --------------------------------------------------------------------------- SMS opt-outs


def is_opted_out(db: Session, phone: str) -> bool:
    normalized = normalize_phone(phone) or phone
    return db.get(SmsOptOut, normalized) is not None


def opt_out(db: Session, phone: str, *, clock: Clock) -> str:
    """Record that this number wants no more texts (STOP, ARRÊT…). Returns the E.164 number."""
    normalized = normalize_phone(phone)
    if normalized is None:
        raise ValueError("phone")
    if db.get(SmsOptOut, normalized) is None:
        db.add(SmsOptOut(phone=normalized, opted_out_at=clock.now()))
        db.flush()
    return normalized


def opt_in(db: Session, phone: str) -> str:
    """Texts allowed again (START, REPRENDRE). Returns the E.164 number."""
    normalized = normalize_phone(phone)
    if normalized is None:
        raise ValueError("phone")
    row = db.get(SmsOptOut, normalized)
    if row is not None:
        db.delete(row)
        db.flush()
    return normalized


# --------------------------------------------------------------------------- rendering


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def _as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _as_instant(value: object) -> datetime:
    """A naive-UTC instant (datetime or ISO text) as the city's local time."""
    instant = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if instant.tzinfo is not None:
        from datetime import UTC

        instant = instant.astimezone(UTC).replace(tzinfo=None)
    return to_local(instant)


def _when(value: object) -> str:
    """ "mardi 22 juin 2027 à 19 h" for an instant."""
    local = _as_instant(value)
    return _("%(date)s à %(time)s") % {
        "date": format_date(local.date()),
        "time": format_time(local),
    }


def _cents(params: Mapping[str, object], key: str) -> int:
    value = params.get(key, 0)
    return int(value) if isinstance(value, int | float | str) else 0


def _period(starts_on: object, ends_on: object) -> str:
    return _("du %(start)s au %(end)s") % {
        "start": format_day_month(_as_date(starts_on)),
        "end": format_day_month(_as_date(ends_on)),
    }


def _line_text(line: Mapping[str, Any]) -> str:
    parts = [str(line.get("child", "")), str(line.get("program", ""))]
    where = ", ".join(str(line[k]) for k in ("group", "site") if line.get(k))
    if where:
        parts.append(where)
    text = " – ".join(p for p in parts if p)
    if line.get("starts_on") and line.get("ends_on"):
        text += " (" + _period(line["starts_on"], line["ends_on"]) + ")"
    options = line.get("options") or []
    if options:
        labels = [
            option_label(str(o.get("code") if isinstance(o, Mapping) else o)) for o in options
        ]
        text += " + " + ", ".join(labels)
    if isinstance(line.get("price_cents"), int):
        text += " : " + format_money(int(line["price_cents"]))
    return text


def _second_installment(value: object) -> dict[str, str] | None:
    """Amount and date of the second installment, as the parent will see them charged."""
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) < 2:
        return None
    second = value[1]
    if not isinstance(second, Mapping):
        return None
    return {
        "rest": format_money(int(second["amount_cents"])),
        "due_on": format_day_month(_as_date(second["due_on"])),
    }


def _greeting() -> str:
    return _("Bonjour,")


def _signature() -> str:
    return _("Le service des loisirs, %(city)s\nQuestions : %(phone)s, %(hours)s.") % {
        "city": _branding.city_name,
        "phone": _branding.city_phone,
        "hours": _branding.city_hours,
    }


def _email(subject: str, *paragraphs: str) -> Rendered:
    body = "\n\n".join([_greeting(), *[p for p in paragraphs if p], _signature()])
    return Rendered(subject=subject, body=body + "\n")


def _sms(*parts: str) -> Rendered:
    return Rendered(subject="", body=plain("\n".join(p for p in parts if p)))


def _render_otp(p: Mapping[str, Any], channel: Channel) -> Rendered:
    values = {"code": p["code"], "minutes": _branding.otp_minutes, "city": _branding.city_name}
    if channel is Channel.SMS:
        return _sms(
            _(
                "%(city)s : votre code de vérification est %(code)s. Il expire dans %(minutes)s "
                "minutes. Ne le communiquez à personne."
            )
            % values
        )
    return _email(
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


def _render_payment_link(p: Mapping[str, Any], channel: Channel) -> Rendered:
    values = {
        "order": p.get("order_id", ""),
        "total": format_money(_cents(p, "total_cents")),
        "now": format_money(_cents(p, "due_now_cents")),
        "url": p["url"],
    }
    plan = _("Montant à payer : %(now)s.") % values
    second = _second_installment(p.get("installments"))
    if second is not None:
        plan = _("Paiement en 2 versements : %(now)s maintenant, %(rest)s le %(due_on)s.") % {
            **values,
            **second,
        }
    if channel is Channel.SMS:
        return _sms(
            _("%(city)s : commande %(order)s, total %(total)s.")
            % {**values, "city": _branding.city_name},
            plan,
            _("Pour payer :"),
            str(p["url"]),
        )
    return _email(
        _("Votre lien de paiement – commande %(order)s") % values,
        _("Votre commande %(order)s est prête. Total : %(total)s.") % values,
        plan,
        _("Pour payer en ligne de façon sécurisée, ouvrez ce lien :\n%(url)s") % values,
        _(
            "Les places restent réservées pendant quelques minutes seulement : si le lien expire, "
            "il suffit de refaire la commande."
        ),
    )


def _render_waitlist_offer(p: Mapping[str, Any], channel: Channel) -> Rendered:
    values = {
        "child": p.get("child", ""),
        "program": p.get("program", ""),
        "week": p.get("week", ""),
        "site": p.get("site", ""),
        "group": p.get("group", ""),
        "period": _period(p["starts_on"], p["ends_on"]) if p.get("starts_on") else "",
        "deadline": _when(p["deadline"]),
        "url": p["url"],
    }
    if channel is Channel.SMS:
        return _sms(
            _(
                "Bonne nouvelle : une place s'est libérée pour %(child)s, %(program)s, semaine "
                "%(week)s (%(period)s)."
            )
            % values,
            _("Elle vous est réservée jusqu'au %(deadline)s. Pour la payer :") % values,
            str(p["url"]),
        )
    return _email(
        _("Une place s'est libérée pour %(child)s") % values,
        _(
            "Une place s'est libérée sur la liste d'attente : %(child)s, %(program)s, %(group)s, "
            "%(site)s, semaine %(week)s (%(period)s)."
        )
        % values,
        _("Elle vous est réservée jusqu'au %(deadline)s. Pour la confirmer, payez ici :\n%(url)s")
        % values,
        _("Passé ce délai, la place sera offerte à la personne suivante sur la liste."),
    )


def _due_text(due: Sequence[Mapping[str, Any]]) -> str:
    return "\n".join(
        _("Versement de %(amount)s prélevé le %(date)s.")
        % {
            "amount": format_money(int(d["amount_cents"])),
            "date": format_date(_as_date(d["due_on"])),
        }
        for d in due
    )


def _children(lines: Sequence[Mapping[str, Any]]) -> str:
    names: list[str] = []
    for line in lines:
        name = str(line.get("child", ""))
        if name and name not in names:
            names.append(name)
    return _(" et ").join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else "".join(names)


def _render_confirmation(p: Mapping[str, Any], channel: Channel) -> Rendered:
    lines: Sequence[Mapping[str, Any]] = p.get("lines") or []
    due: Sequence[Mapping[str, Any]] = p.get("due") or []
    paid = format_money(_cents(p, "paid_cents"))
    n = len(lines)
    reminder = _(
        "N'oubliez pas de remplir ou de mettre à jour la fiche santé de chaque enfant "
        "avant le début de l'activité."
    )
    if channel is Channel.SMS:
        first_due = due[0] if due else None
        next_due = (
            _("Prochain versement : %(amount)s le %(date)s.")
            % {
                "amount": format_money(int(first_due["amount_cents"])),
                "date": format_day_month(_as_date(first_due["due_on"])),
            }
            if first_due
            else ""
        )
        return _sms(
            ngettext(
                "%(city)s : inscription confirmée pour %(children)s. Montant payé : %(paid)s.",
                "%(city)s : %(n)d inscriptions confirmées pour %(children)s. Montant payé : "
                "%(paid)s.",
                n,
            )
            % {"city": _branding.city_name, "children": _children(lines), "paid": paid, "n": n},
            next_due,
            _("Détails par courriel. Pensez à la fiche santé avant le début du camp."),
        )
    listing = "\n".join("• " + _line_text(line) for line in lines)
    return _email(
        ngettext("Inscription confirmée", "Inscriptions confirmées", n),
        ngettext("Votre inscription est confirmée :", "Vos inscriptions sont confirmées :", n)
        + "\n"
        + listing,
        _("Montant payé : %(paid)s.") % {"paid": paid},
        _due_text(due),
        reminder,
    )


def _render_installment_failed(p: Mapping[str, Any], channel: Channel) -> Rendered:
    values = {"amount": format_money(_cents(p, "amount_cents")), "url": p["url"]}
    if channel is Channel.SMS:
        return _sms(
            _(
                "%(city)s : le versement de %(amount)s n'a pas pu être prélevé sur la carte "
                "enregistrée. Pour le régler :"
            )
            % {**values, "city": _branding.city_name},
            str(p["url"]),
        )
    return _email(
        _("Versement à régler : %(amount)s") % values,
        _(
            "Le versement de %(amount)s prévu aujourd'hui n'a pas pu être prélevé sur la carte "
            "enregistrée. Cela arrive, par exemple quand une carte a expiré."
        )
        % values,
        _("Pour le régler en ligne :\n%(url)s") % values,
    )


def _render_late_payment_refunded(p: Mapping[str, Any], channel: Channel) -> Rendered:
    values = {"amount": format_money(_cents(p, "amount_cents"))}
    text = (
        _(
            "Votre paiement est arrivé après l'expiration de la réservation et les places ont "
            "été prises entre-temps. Le montant de %(amount)s vous est remboursé en entier."
        )
        % values
    )
    if channel is Channel.SMS:
        return _sms(
            text,
            _("Vous pouvez rejoindre la liste d'attente en nous écrivant."),
        )
    return _email(
        _("Remboursement de %(amount)s") % values,
        text,
        _(
            "Si vous le souhaitez, vous pouvez rejoindre la liste d'attente en nous écrivant : "
            "vous serez avisé dès qu'une place se libère."
        ),
    )


def _render_deferred_registered(p: Mapping[str, Any], channel: Channel) -> Rendered:
    lines: Sequence[Mapping[str, Any]] = p.get("lines") or []
    n = len(lines)
    why = _(
        "Aucun montant n'est prélevé maintenant : la Ville enverra un lien de paiement quand "
        "la période de paiement commencera."
    )
    if channel is Channel.SMS:
        return _sms(
            ngettext(
                "%(city)s : demande d'inscription reçue pour %(children)s.",
                "%(city)s : %(n)d demandes d'inscription reçues pour %(children)s.",
                n,
            )
            % {"city": _branding.city_name, "children": _children(lines), "n": n},
            why,
        )
    listing = "\n".join("• " + _line_text(line) for line in lines)
    return _email(
        ngettext("Demande d'inscription reçue", "Demandes d'inscription reçues", n),
        ngettext("Votre demande est enregistrée :", "Vos demandes sont enregistrées :", n)
        + "\n"
        + listing,
        why,
    )


def _render_offer_expired(p: Mapping[str, Any], channel: Channel) -> Rendered:
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
        return _sms(text)
    return _email(_("Place offerte expirée"), text)


def _render_registration_cancelled(p: Mapping[str, Any], channel: Channel) -> Rendered:
    line: Mapping[str, Any] = p.get("line") or {}
    refunded = _cents(p, "refunded_cents")
    cancelled: Sequence[Mapping[str, Any]] = p.get("cancelled_installments") or []
    remaining: Sequence[Mapping[str, Any]] = p.get("remaining_due") or []
    values = {
        "child": line.get("child", ""),
        "program": line.get("program", ""),
        "week": line.get("week", ""),
        "period": _period(line["starts_on"], line["ends_on"]) if line.get("starts_on") else "",
        "amount": format_money(refunded),
        "city": _branding.city_name,
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
            "date": format_date(_as_date(c["due_on"])),
        }
        for c in cancelled
    )
    remaining_text = "\n".join(
        _("Le versement prévu le %(date)s est maintenant de %(amount)s.")
        % {
            "amount": format_money(int(d["amount_cents"])),
            "date": format_date(_as_date(d["due_on"])),
        }
        for d in remaining
    )
    if channel is Channel.SMS:
        return _sms(
            _(
                "%(city)s : l'inscription de %(child)s (%(program)s, semaine %(week)s) a été "
                "annulée par le service des loisirs."
            )
            % values,
            refund_text,
            _("Détails par courriel.") if cancelled or remaining else "",
        )
    return _email(
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


def _render_payment_amount_refunded(p: Mapping[str, Any], channel: Channel) -> Rendered:
    values = {
        "amount": format_money(_cents(p, "amount_cents")),
        "due": format_money(_cents(p, "due_cents")),
        "city": _branding.city_name,
    }
    text = (
        _(
            "Nous avons reçu un paiement de %(amount)s, alors que le montant dû est de %(due)s. "
            "Ce paiement ne peut pas confirmer l'inscription : il vous est remboursé en entier."
        )
        % values
    )
    if channel is Channel.SMS:
        return _sms(
            f"{_branding.city_name} : {text}",
            _("Pour payer le bon montant :"),
            str(p.get("url", "")),
        )
    return _email(
        _("Paiement remboursé : %(amount)s") % values,
        text,
        _("Pour payer le montant dû, utilisez ce lien tant qu'il est valide :\n%(url)s")
        % {"url": p.get("url", "")},
        _("Si le lien a expiré, il suffit de refaire la commande ou de nous joindre."),
    )


def _render_account_approved(p: Mapping[str, Any], channel: Channel) -> Rendered:
    text = _("Votre dossier familial est approuvé : vous pouvez maintenant inscrire vos enfants.")
    if channel is Channel.SMS:
        return _sms(f"{_branding.city_name} : {text}")
    return _email(_("Votre dossier familial est approuvé"), text)


_RENDERERS: dict[str, Callable[[Mapping[str, Any], Channel], Rendered]] = {
    "otp": _render_otp,
    "payment_link": _render_payment_link,
    "waitlist_offer": _render_waitlist_offer,
    "confirmation": _render_confirmation,
    "installment_failed": _render_installment_failed,
    "late_payment_refunded": _render_late_payment_refunded,
    "deferred_registered": _render_deferred_registered,
    "offer_expired": _render_offer_expired,
    "account_approved": _render_account_approved,
    "registration_cancelled": _render_registration_cancelled,
    "payment_amount_refunded": _render_payment_amount_refunded,
}

KINDS = frozenset(_RENDERERS)


def render(kind: str, params: Mapping[str, object], channel: Channel) -> Rendered:
    """The French text of message `kind` for `channel` (raises KeyError on an unknown kind)."""
    return _RENDERERS[kind](params, channel)


# --------------------------------------------------------------------------- enqueue


def default_channels(family: Family) -> list[Channel]:
    channels: list[Channel] = []
    if family.phone and family.phone_can_text:
        channels.append(Channel.SMS)
    if family.email:
        channels.append(Channel.EMAIL)
    return channels


def enqueue(
    db: Session,
    *,
    clock: Clock,
    family: Family,
    kind: str,
    params: Mapping[str, object],
    channels: Sequence[Channel] | None = None,
) -> list[Notification]:
    """Render message `kind` in French for each channel and add it to the outbox."""
    if kind not in _RENDERERS:
        raise ValueError(f"unknown notification kind {kind!r}")
    wanted = list(channels) if channels is not None else default_channels(family)
    rows: list[Notification] = []
    now = clock.now()
    for channel in wanted:
        recipient = family.phone if channel is Channel.SMS else family.email
        if not recipient:
            continue
        rendered = render(kind, params, channel)
        row = Notification(
            family_id=family.id,
            channel=channel,
            recipient=recipient,
            subject=rendered.subject[:200],
            body=rendered.body,
            kind=kind,
            status=NotificationStatus.PENDING,
            attempts=0,
            created_at=now,
        )
        db.add(row)
        rows.append(row)
    db.flush()
    return rows


# --------------------------------------------------------------------------- dispatch


class SmsSender(Protocol):
    async def send(self, *, to: str, body: str) -> str:
        """Send one text message; returns the provider's message id; raises on failure."""
        ...


class EmailSender(Protocol):
    async def send(self, *, to: str, subject: str, body: str) -> str:
        """Send one courriel; returns the provider's message id; raises on failure."""
        ...


T = TypeVar("T")
RunSync = Callable[[Callable[[], T]], Awaitable[T]]


async def _to_thread(fn: Callable[[], T]) -> T:
    return await asyncio.to_thread(fn)


@dataclass(frozen=True)
class _Job:
    id: int
    channel: Channel
    recipient: str
    subject: str
    body: str


def _claim(session_factory: sessionmaker[Session], clock: Clock, limit: int) -> list[_Job]:
    """Pending (and retryable failed) rows to send; SMS to opted-out numbers are suppressed."""
    from backend.db.engine import transaction

    jobs: list[_Job] = []
    with transaction(session_factory) as db:
        rows = db.scalars(
            select(Notification)
            .where(
                or_(
                    Notification.status == NotificationStatus.PENDING,
                    (Notification.status == NotificationStatus.FAILED)
                    & (Notification.attempts < MAX_ATTEMPTS),
                )
            )
            .order_by(Notification.id)
            .limit(limit)
        ).all()
        for row in rows:
            if row.channel is Channel.SMS and is_opted_out(db, row.recipient):
                row.status = NotificationStatus.SUPPRESSED
                continue
            jobs.append(_Job(row.id, row.channel, row.recipient, row.subject, row.body))
    return jobs


def _record(
    session_factory: sessionmaker[Session], clock: Clock, job_id: int, provider_id: str | None
) -> None:
    from backend.db.engine import transaction

    with transaction(session_factory) as db:
        row = db.get(Notification, job_id)
        if row is None:
            return
        row.attempts += 1
        if provider_id is None:
            row.status = NotificationStatus.FAILED
        else:
            row.status = NotificationStatus.SENT
            row.provider_id = provider_id[:64]
            row.sent_at = clock.now()


async def dispatch_pending(
    session_factory: sessionmaker[Session],
    *,
    clock: Clock,
    sms: SmsSender,
    email: EmailSender,
    limit: int = 100,
    run_sync: Callable[[Callable[[], Any]], Awaitable[Any]] | None = None,
) -> int:
    """Send what is waiting in the outbox; returns how many messages were sent.

    Database work runs through `run_sync` (the app's bounded thread pool; a plain thread by
    default) so the event loop never blocks. Only one dispatcher should run at a time per
    database (the app serialises its own with a lock).
    """
    run = run_sync or _to_thread
    jobs: list[_Job] = await run(lambda: _claim(session_factory, clock, limit))
    sent = 0
    for job in jobs:
        provider_id: str | None
        try:
            if job.channel is Channel.SMS:
                provider_id = await sms.send(to=job.recipient, body=job.body)
            else:
                provider_id = await email.send(to=job.recipient, subject=job.subject, body=job.body)
        except Exception:  # noqa: BLE001 - any provider failure is retried later
            log.warning("outbox: sending notification %s failed", job.id, exc_info=True)
            provider_id = None
        await run(partial(_record, session_factory, clock, job.id, provider_id))
        if provider_id is not None:
            sent += 1
    return sent
