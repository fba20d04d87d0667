"""The fiche santé reminder's text (texto and courriel): the child, the week, the link; never a
health detail."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backend.db.notifications import Channel
from backend.i18n import _, format_date
from backend.services import message_format as fmt


def render_health_reminder(p: Mapping[str, Any], channel: Channel) -> fmt.Rendered:
    values = {
        "child": p.get("child", ""),
        "program": p.get("program", ""),
        "date": format_date(fmt.as_date(p["starts_on"])),
        "url": p["url"],
        "city": fmt.branding().city_name,
    }
    if channel is Channel.SMS:
        return fmt.sms(
            _(
                "%(city)s : la fiche santé de %(child)s n'est pas encore remplie. Le camp "
                "commence le %(date)s. Pour la remplir en ligne (lien personnel) :"
            )
            % values,
            str(p["url"]),
        )
    return fmt.email(
        _("Fiche santé à remplir : %(child)s") % values,
        _(
            "%(child)s commence %(program)s le %(date)s, et sa fiche santé n'est pas encore "
            "remplie. Les animateurs en ont besoin dès le premier jour (allergies, médicaments, "
            "personnes à joindre, autorisations)."
        )
        % values,
        _("Pour la remplir en ligne de façon sécurisée, ouvrez ce lien personnel :\n%(url)s")
        % values,
        _(
            "Ce lien est valide quelques jours. Ne le transférez pas : il ouvre la fiche de votre "
            "enfant. Pour un nouveau lien, écrivez « fiche santé » à l'assistant sur le site de "
            "la Ville."
        ),
    )
