"""The text of the admission message of registration night (kind `admission`): the family's
turn came, how long its turn holds without activity, and how to go on. The same sentence goes
to the phone and into the open chat; the chat's says « continuer », the word the bot resumes
the kept draft on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backend.db.notifications import Channel
from backend.i18n import _, ngettext
from backend.services import message_format as fmt


def render_admission(p: Mapping[str, Any], channel: Channel) -> fmt.Rendered:
    minutes = int(p.get("grace_minutes") or 0)
    turn = _("C'est votre tour! Vous pouvez maintenant inscrire vos enfants.")
    kept = ngettext(
        "Votre place est gardée %(minutes)d minute sans activité.",
        "Votre place est gardée %(minutes)d minutes sans activité.",
        minutes,
    ) % {"minutes": minutes}
    if channel is Channel.CHAT:
        return fmt.sms(
            turn,
            kept,
            _("Écrivez « continuer » pour reprendre votre inscription où nous étions."),
        )
    if channel is Channel.SMS:
        return fmt.sms(
            f"{fmt.branding().city_name} : {turn}",
            kept,
            # no guillemets: a text stays in the GSM alphabet, two segments
            _("Revenez à la conversation pour continuer votre inscription."),
        )
    return fmt.email(_("C'est votre tour de vous inscrire"), turn, kept)
