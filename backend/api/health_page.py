"""The fiche santé page's HTML: the form with its labels, hints and each error beside its
field, the summary of errors at the top, the saved and refused pages. No script: a plain form
that any browser (and a screen reader) handles. Every sentence comes from here, through `_()`.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import datetime

from backend.domain import health_form as rules
from backend.i18n import _, ngettext
from backend.services.message_format import when

STYLE = """
*{box-sizing:border-box}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;font-size:1.05rem;
line-height:1.5;color:#1b1b1b;background:#f4f6f8}
main{max-width:40rem;margin:0 auto;padding:1rem}
header{background:#0b4f6c;color:#fff;padding:.9rem 1rem}
header p{margin:0;font-weight:600}
h1{font-size:1.4rem;margin:.6rem 0 1rem}
h2{font-size:1.15rem;margin:0 0 .5rem}
section,fieldset.part{background:#fff;border-radius:.5rem;padding:1rem;margin:0 0 1rem;
border:0;box-shadow:0 1px 2px rgba(0,0,0,.12)}
fieldset.part>legend{font-weight:700;font-size:1.15rem;padding:0;float:left;width:100%;
margin-bottom:.6rem}
fieldset.part>legend+*{clear:both}
.field{margin:0 0 1rem}
label,.question{display:block;font-weight:600;margin-bottom:.2rem}
fieldset.choice{border:0;padding:0;margin:0 0 1rem}
fieldset.choice legend{font-weight:600;padding:0;margin-bottom:.2rem}
.choice label{display:inline-block;font-weight:400;margin-right:1.2rem}
input[type=text],input[type=tel],textarea{width:100%;font:inherit;padding:.5rem;
border:2px solid #5b6770;border-radius:.4rem}
textarea{min-height:4.5rem}
input[type=radio],input[type=checkbox]{width:1.2rem;height:1.2rem;vertical-align:-.2rem;
margin-right:.35rem}
.check label{display:inline;font-weight:400}
[aria-invalid=true]{border-color:#b00020}
.field-error{color:#b00020;font-weight:700;margin:.1rem 0 .3rem}
.hint{color:#4a545c;font-size:.95rem;margin:.1rem 0 .3rem}
button{width:100%;font-size:1.15rem;font-weight:700;padding:.8rem;border:0;
border-radius:.4rem;background:#0b4f6c;color:#fff;cursor:pointer}
:focus{outline:3px solid #ffbf47;outline-offset:2px}
.error{border-left:6px solid #b00020;background:#fdecee}
.ok{border-left:6px solid #1e7b34;background:#eaf6ec}
a{color:#0b4f6c}
.visually-hidden{position:absolute!important;width:1px;height:1px;padding:0;margin:-1px;
overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
"""


def problem_text(problem: str) -> str:
    sentences = {
        rules.REQUIRED: _("Ce renseignement est obligatoire."),
        rules.CHOOSE: _("Choisissez Oui ou Non."),
        rules.PHONE: _(
            "Ce numéro de téléphone n'est pas valide. Entrez 10 chiffres, par exemple "
            "418 555-0101."
        ),
        rules.INSURANCE: _(
            "Le numéro d'assurance maladie a 4 lettres et 8 chiffres, par exemple TREL 1805 1412."
        ),
        rules.EXPIRY: _("Entrez la date d'expiration au format MM/AAAA, par exemple 08/2029."),
        rules.EXPIRY_PAST: _("Cette carte est expirée. Entrez la date de la carte en vigueur."),
        rules.EXPIRY_NEEDED: _("Entrez aussi la date d'expiration de la carte."),
        rules.TOO_LONG: _("Ce texte est trop long : raccourcissez-le, s'il vous plaît."),
        rules.PAIR: _(
            "Entrez le nom et le téléphone de cette personne, ou laissez les deux vides."
        ),
    }
    return sentences.get(problem, _("Vérifiez ce renseignement."))


def document(city: str, title: str, content: str) -> str:
    return (
        '<!doctype html><html lang="fr-CA"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
        f'<body><header><p>{html.escape(city)}</p></header><main id="contenu">'
        f"<h1>{html.escape(title)}</h1>{content}</main></body></html>"
    )


class _Form:
    """Builds the fields, each with its value and its problem, if any."""

    def __init__(self, values: Mapping[str, str], problems: Mapping[str, str]) -> None:
        self.values = values
        self.problems = problems

    def _error(self, name: str) -> str:
        problem = self.problems.get(name)
        if not problem:
            return ""
        prefix = html.escape(_("Erreur :"))
        return (
            f'<p class="field-error" id="{name}-erreur"><span class="visually-hidden">{prefix}'
            f"</span> {html.escape(problem_text(problem))}</p>"
        )

    def _described(self, name: str, hint: str) -> str:
        ids = [f"{name}-aide"] if hint else []
        if name in self.problems:
            ids.append(f"{name}-erreur")
        invalid = ' aria-invalid="true"' if name in self.problems else ""
        return (f' aria-describedby="{" ".join(ids)}"' if ids else "") + invalid

    def text(
        self,
        name: str,
        label: str,
        *,
        hint: str = "",
        kind: str = "text",
        autocomplete: str = "off",
        required: bool = False,
        area: bool = False,
    ) -> str:
        value = html.escape(self.values.get(name, ""))
        hint_html = f'<p class="hint" id="{name}-aide">{html.escape(hint)}</p>' if hint else ""
        attrs = (
            f'id="{name}" name="{name}"{self._described(name, hint)}'
            + (' aria-required="true"' if required else "")
        )
        control = (
            f"<textarea {attrs} rows=\"3\">{value}</textarea>"
            if area
            else f'<input type="{kind}" {attrs} value="{value}" autocomplete="{autocomplete}">'
        )
        return (
            f'<div class="field"><label for="{name}">{html.escape(label)}</label>'
            f"{hint_html}{self._error(name)}{control}</div>"
        )

    def yes_no(self, name: str, question: str, *, hint: str = "") -> str:
        chosen = self.values.get(name, "")
        hint_html = f'<p class="hint" id="{name}-aide">{html.escape(hint)}</p>' if hint else ""
        options = "".join(
            f'<label><input type="radio" name="{name}" id="{name}-{value}" value="{value}"'
            + (' checked' if chosen == value else "")
            + (f' aria-describedby="{name}-erreur"' if name in self.problems else "")
            + f">{html.escape(text)}</label>"
            for value, text in (("oui", _("Oui")), ("non", _("Non")))
        )
        return (
            f'<fieldset class="choice"><legend>{html.escape(question)}</legend>'
            f"{hint_html}{self._error(name)}{options}</fieldset>"
        )

    def check(self, name: str, label: str) -> str:
        checked = " checked" if self.values.get(name) == "oui" else ""
        return (
            f'<div class="field check"><input type="checkbox" id="{name}" name="{name}" '
            f'value="oui"{checked}><label for="{name}">{html.escape(label)}</label></div>'
        )


_CHOICES = frozenset({"epipen", *rules.AUTHORISATIONS})


def _summary(problems: Mapping[str, str], labels: Mapping[str, str]) -> str:
    if not problems:
        return ""
    n = len(problems)
    title = ngettext(
        "Un renseignement est à corriger", "%(n)d renseignements sont à corriger", n
    ) % {"n": n}
    items = "".join(
        f'<li><a href="#{name}{"-oui" if name in _CHOICES else ""}">'
        f"{html.escape(labels.get(name, name))} : {html.escape(problem_text(problem))}</a></li>"
        for name, problem in problems.items()
    )
    return (
        '<section class="error" role="alert" aria-labelledby="erreurs-titre" tabindex="-1" '
        f'id="erreurs"><h2 id="erreurs-titre">{html.escape(title)}</h2><ul>{items}</ul>'
        f"<p>{html.escape(_('Rien n’a été enregistré pour l’instant.'))}</p></section>"
    )


def _part(legend: str) -> str:
    return f'<fieldset class="part"><legend>{html.escape(legend)}</legend>'


def form_page(
    *,
    child: str,
    action: str,
    expires_at: datetime,
    values: Mapping[str, str],
    problems: Mapping[str, str],
) -> str:
    f = _Form(values, problems)
    on_file = values.get("insurance_on_file", "")
    insurance_hint = (
        _(
            "Un numéro se terminant par %(last)s est au dossier : laissez ce champ vide pour le "
            "garder."
        )
        % {"last": on_file}
        if on_file
        else _("4 lettres et 8 chiffres, comme sur la carte. Facultatif : vous pouvez aussi "
               "présenter la carte au camp.")
    )
    labels = {
        "allergies": _("Allergies"),
        "epipen": _("Auto-injecteur d'épinéphrine"),
        "medication": _("Médicaments"),
        "conditions": _("Problèmes de santé"),
        "insurance_number": _("Numéro d'assurance maladie"),
        "insurance_expiry": _("Date d'expiration de la carte"),
        "contact_name": _("Nom de la personne à joindre"),
        "contact_relation": _("Lien avec l'enfant"),
        "contact_phone": _("Téléphone de la personne à joindre"),
        "second_name": _("Nom de la deuxième personne"),
        "second_phone": _("Téléphone de la deuxième personne"),
        "first_aid": _("Premiers soins"),
        "photos": _("Photos"),
        "leave_alone": _("Départ seul"),
    }
    intro = _(
        "Ces renseignements sont lus seulement par les animateurs du groupe de %(child)s. Ils "
        "ne passent jamais par la conversation ni par texto."
    ) % {"child": child}
    expiry = _("Ce lien personnel est valide jusqu'au %(when)s.") % {"when": when(expires_at)}
    return (
        _summary(problems, labels)
        + f'<section><p>{html.escape(intro)}</p><p class="hint">{html.escape(expiry)}</p>'
        + f'<p class="hint">{html.escape(_("Les champs sans la mention « facultatif » sont à remplir. Pour une question sans objet, laissez le champ vide."))}</p>'  # noqa: E501
        + "</section>"
        + f'<form method="post" action="{html.escape(action)}" novalidate>'
        + _part(_("Allergies et santé"))
        + f.text("allergies", labels["allergies"], area=True,
                 hint=_("Aliments, médicaments, piqûres d'insectes… Laissez vide s'il n'y en a "
                        "pas."))
        + f.yes_no("epipen", _("%(child)s doit avoir un auto-injecteur d'épinéphrine (EpiPen) "
                               "au camp") % {"child": child})
        + f.text("medication", _("Médicaments à prendre pendant le camp (facultatif)"),
                 area=True, hint=_("Nom, dose et heure."))
        + f.text("conditions", _("Problèmes de santé ou besoins particuliers (facultatif)"),
                 area=True, hint=_("Asthme, diabète, épilepsie, TDAH, restrictions…"))
        + f.check("glasses", _("%(child)s porte des lunettes") % {"child": child})
        + "</fieldset>"
        + _part(_("Carte d'assurance maladie (facultatif)"))
        + f.text("insurance_number", labels["insurance_number"], hint=insurance_hint)
        + f.text("insurance_expiry", labels["insurance_expiry"], hint=_("MM/AAAA, par exemple "
                                                                        "08/2029."))
        + "</fieldset>"
        + _part(_("En cas d'urgence"))
        + f.text("contact_name", labels["contact_name"], autocomplete="name", required=True)
        + f.text("contact_relation", _("Lien avec l'enfant (facultatif)"),
                 hint=_("Mère, père, grand-parent, voisine…"))
        + f.text("contact_phone", labels["contact_phone"], kind="tel", autocomplete="tel",
                 required=True, hint=_("Un numéro où joindre cette personne le jour."))
        + f.text("second_name", _("Deuxième personne à joindre (facultatif)"))
        + f.text("second_phone", _("Téléphone de la deuxième personne (facultatif)"), kind="tel")
        + "</fieldset>"
        + _part(_("Autorisations"))
        + f.yes_no("first_aid", _("J'autorise le personnel du camp à donner les premiers soins "
                                  "à %(child)s et, en cas d'urgence, à demander un transport à "
                                  "l'hôpital.") % {"child": child})
        + f.yes_no("photos", _("J'autorise la Ville à prendre %(child)s en photo pendant les "
                               "activités, pour ses publications.") % {"child": child})
        + f.yes_no("leave_alone", _("%(child)s peut quitter le camp seul à la fin de la "
                                    "journée.") % {"child": child})
        + "</fieldset>"
        + f'<button type="submit">{html.escape(_("Enregistrer la fiche santé"))}</button>'
        + "</form>"
    )


def saved_page(child: str, expires_at: datetime) -> str:
    text = _(
        "La fiche santé de %(child)s est enregistrée. Merci! Les animateurs de son groupe "
        "pourront la consulter."
    ) % {"child": child}
    again = _("Pour la modifier, rouvrez ce lien d'ici le %(when)s.") % {"when": when(expires_at)}
    return (
        f'<section class="ok" role="status"><p>{html.escape(text)}</p>'
        f"<p>{html.escape(again)}</p></section>"
    )


def problem_page(text: str, help_text: str) -> str:
    return (
        f'<section class="error"><p>{html.escape(text)}</p>'
        f"<p>{html.escape(help_text)}</p></section>"
    )
