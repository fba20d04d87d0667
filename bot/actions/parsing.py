"""Pure parsing of what parents type: weeks, children, options, yes/no, numbers, sizes.

No Rasa, no I/O: every function takes the message text (and the live facts it must match
against, e.g. the season's weeks or the family's children) and returns plain values, so the
whole module is unit-tested with the spellings parents really use (no accents, SMS style,
typos). Functions return None when the text says nothing about what they look for.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from rapidfuzz import fuzz, process

# ---------------------------------------------------------------------------- normalisation

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'"})
_NUMBER_WORDS = {
    "un": 1,
    "une": 1,
    "premiere": 1,
    "premier": 1,
    "1ere": 1,
    "1re": 1,
    "1er": 1,
    "deux": 2,
    "deuxieme": 2,
    "2e": 2,
    "2eme": 2,
    "seconde": 2,
    "second": 2,
    "trois": 3,
    "troisieme": 3,
    "3e": 3,
    "3eme": 3,
    "quatre": 4,
    "quatrieme": 4,
    "4e": 4,
    "4eme": 4,
    "cinq": 5,
    "cinquieme": 5,
    "5e": 5,
    "5eme": 5,
    "six": 6,
    "sixieme": 6,
    "6e": 6,
    "6eme": 6,
    "sept": 7,
    "septieme": 7,
    "7e": 7,
    "7eme": 7,
    "huit": 8,
    "huitieme": 8,
    "8e": 8,
    "8eme": 8,
    "neuf": 9,
    "neuvieme": 9,
    "9e": 9,
    "9eme": 9,
    "dix": 10,
    "dixieme": 10,
    "10e": 10,
    "10eme": 10,
}
MONTHS = {
    "janvier": 1,
    "janv": 1,
    "fevrier": 2,
    "fev": 2,
    "mars": 3,
    "avril": 4,
    "avr": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7,
    "juil": 7,
    "aout": 8,
    "septembre": 9,
    "sept": 9,
    "octobre": 10,
    "oct": 10,
    "novembre": 11,
    "nov": 11,
    "decembre": 12,
    "dec": 12,
}


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalize(text: str) -> str:
    """Lowercase, no accents, straight apostrophes, single spaces; digits and letters kept."""
    text = strip_accents((text or "").translate(_APOSTROPHES)).lower()
    text = re.sub(r"[^\w\s'\-+/,.:]", " ", text)  # emojis and symbols become spaces
    return re.sub(r"\s+", " ", text).strip()


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", normalize(text))


# ---------------------------------------------------------------------------- yes / no

_YES = {
    "oui",
    "ouais",
    "ouin",
    "ouaip",
    "ok",
    "okay",
    "oke",
    "k",
    "yes",
    "yep",
    "yup",
    "sure",
    "dac",
    "daccord",
    "parfait",
    "exact",
    "exactement",
    "correct",
    "go",
    "certainement",
    "absolument",
    "volontiers",
    "accepte",
    "j'accepte",
    "jaccepte",
    "bien",
    "super",
    "beau",
    "confirme",
    "confirmer",
    "o",
    "y",
    "1",
    "ui",
    "wi",
}
_NO = {
    "non",
    "nan",
    "nope",
    "no",
    "nenon",
    "pantoute",
    "refuse",
    "jamais",
    "aucun",
    "aucune",
    "n",
    "nah",
    "pas",
}
_YES_EMOJI = ("👍", "👌", "✅", "🙂", "😀")
_NO_EMOJI = ("👎", "❌")


def parse_yes_no(text: str) -> bool | None:
    """True for a yes, False for a no, None when neither (or both) is said."""
    raw = text or ""
    if any(e in raw for e in _YES_EMOJI) and not any(e in raw for e in _NO_EMOJI):
        return True
    if any(e in raw for e in _NO_EMOJI):
        return False
    norm = normalize(raw).replace("d'accord", "daccord").replace("c'est beau", "beau")
    tokens = re.findall(r"[a-z0-9']+", norm)
    if not tokens:
        return None
    phrases_no = (
        "pas besoin",
        "pas maintenant",
        "pas vraiment",
        "laisse faire",
        "pas question",
        "non merci",
    )
    if any(p in norm for p in phrases_no):
        return False
    first = tokens[0].strip("'")
    if first in _NO or first == "non":
        return False
    if first in _YES:
        return True
    if any(t in ("oui", "ouais", "yes", "ok") for t in tokens):
        return True
    if any(t in ("non", "nope", "nan") for t in tokens):
        return False
    return None


# ---------------------------------------------------------------------------- numbers


def digits_groups(text: str) -> list[str]:
    """Runs of digits, joining the separators people put inside phone numbers."""
    norm = normalize(text)
    # "418 555-0101", "(418) 555 0101", "418.555.0101" → one run
    joined = re.sub(r"(?<=\d)[\s\-.)(/]+(?=\d)", "", norm.replace("(", " ").replace(")", " "))
    return re.findall(r"\d+", joined)


def parse_client_number(text: str) -> str | None:
    """A client number: 4 to 8 digits alone (phone numbers and codes are told apart by context)."""
    for token in re.findall(r"\d+", normalize(text).replace(" ", "")):
        if 4 <= len(token) <= 8:
            return token
    return None


PHONE = re.compile(r"(?<![\d])(?:\+?1[\s\-.]?)?\(?(\d{3})\)?[\s\-.]?(\d{3})[\s\-.]?(\d{4})(?!\d)")


def parse_phone(text: str) -> str | None:
    """A North American phone number as 10 digits, or None ("418 555-0101", "+1 (418) 555 0101")."""
    match = PHONE.search(normalize(text).replace("(", " (").replace(")", ") "))
    if match:
        return "".join(match.groups())
    return None


def without_phone(text: str) -> str:
    """The message with its phone number taken out (so its digits are not read as anything else)."""
    return PHONE.sub(" ", normalize(text))


def parse_code(text: str) -> str | None:
    """A 6-digit one-time code, spaces tolerated ("482 913")."""
    norm = normalize(text)
    match = re.search(r"(?<!\d)(\d{3})[\s\-]?(\d{3})(?!\d)", norm)
    return match.group(1) + match.group(2) if match else None


def parse_small_number(text: str, maximum: int = 20) -> int | None:
    """A bare choice number ("2", "le 2e", "deux") as parents answer numbered lists."""
    tokens = words(text)
    for token in tokens:
        if token.isdigit() and 0 < int(token) <= maximum:
            return int(token)
        if token in _NUMBER_WORDS and _NUMBER_WORDS[token] <= maximum:
            return _NUMBER_WORDS[token]
    return None


def parse_installments(text: str) -> int | None:
    norm = normalize(text)
    if re.search(r"\b(2|deux)\b|\ben deux\b|\b2 fois\b|\bdeux fois\b|\bdeux paiements\b", norm):
        return 2
    if re.search(
        r"\b(1|un|une)\b|\bune fois\b|\bseul\b|\bd'un coup\b|\bdun coup\b|\btout maintenant\b"
        r"|\bcomptant\b",
        norm,
    ):
        return 1
    return None


# ---------------------------------------------------------------------------- T-shirt sizes

SIZES = ("TP", "P", "M", "G", "TG")
_SIZE_WORDS = {
    "tp": "TP",
    "xs": "TP",
    "tres petit": "TP",
    "extra petit": "TP",
    "extra small": "TP",
    "tg": "TG",
    "xl": "TG",
    "tres grand": "TG",
    "extra grand": "TG",
    "extra large": "TG",
    "p": "P",
    "s": "P",
    "small": "P",
    "petit": "P",
    "petite": "P",
    "m": "M",
    "medium": "M",
    "moyen": "M",
    "moyenne": "M",
    "med": "M",
    "g": "G",
    "l": "G",
    "large": "G",
    "grand": "G",
    "grande": "G",
}


def parse_tshirt(text: str) -> str | None:
    norm = normalize(text)
    for phrase in sorted(_SIZE_WORDS, key=len, reverse=True):
        if " " in phrase and phrase in norm:
            return _SIZE_WORDS[phrase]
    tokens = words(text)
    size_context = any(
        t in ("taille", "grandeur", "size", "chandail", "tshirt", "t") for t in tokens
    )
    for token in tokens:
        if token in ("tp", "tg", "xs", "xl", "medium", "small", "large", "moyen", "moyenne"):
            return _SIZE_WORDS[token]
    if len(tokens) <= 3 or size_context:
        for token in tokens:
            if token in ("p", "m", "g", "s", "l", "med"):
                return _SIZE_WORDS[token]
            if size_context and token in ("petit", "petite", "grand", "grande"):
                return _SIZE_WORDS[token]
    return None


# ---------------------------------------------------------------------------- weeks


@dataclass(frozen=True)
class Week:
    number: int
    starts_on: date
    ends_on: date


_ALL_WEEKS = re.compile(
    r"tout l'?\s?ete|tout l ete|toute l'?\s?ete|tout le camp|toutes les semaines|toute les semaines"
    r"|les \d+ semaines|toutes? les \w+ semaines|l'ete au complet|l'ete complet|ete au complet"
    r"|all summer"
)
_EXCEPT = re.compile(
    r"\b(?:sauf|excepte|a part|pas|sans|moins)\b(?:\s+(?:la|les|de|des|pour|le))*\s+(?:semaines?"
    r"|sem|sem\.|s)?\s*"
)
_RANGE = re.compile(
    r"(\d{1,2})\s*(?:a|au|-|–|jusqu'a|jusqua|jusqu a|to|@)\s*(?:la\s+)?(?:semaine\s+)?(\d{1,2})\b"
)
_DATE = re.compile(
    r"\b(\d{1,2})(?:er)?\s+(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\b"
)
_WEEK_WORD = re.compile(r"\b(?:semaines?|sem|sems|wk|week)\b")


def _numbers_in(fragment: str) -> list[int]:
    found: list[int] = []
    for a, b in _RANGE.findall(fragment):
        lo, hi = int(a), int(b)
        if lo <= hi:
            found.extend(range(lo, hi + 1))
    rest = _RANGE.sub(" ", fragment)
    for token in re.findall(r"[a-z0-9]+", rest):
        if token.isdigit():
            found.append(int(token))
        elif token in _NUMBER_WORDS and token not in ("un", "une"):
            found.append(_NUMBER_WORDS[token])
    return found


def _dates_to_weeks(fragment: str, weeks: Sequence[Week], year: int) -> list[int]:
    found = []
    for day, month in _DATE.findall(fragment):
        try:
            when = date(year, MONTHS[month], int(day))
        except ValueError:
            continue
        for week in weeks:
            # "la semaine du 12 juillet" also accepts a weekend day next to the week
            if (week.starts_on - when).days <= 2 and (when - week.ends_on).days <= 2:
                found.append(week.number)
                break
    return found


def parse_weeks(text: str, weeks: Sequence[Week], expect_weeks: bool = False) -> list[int] | None:
    """The week numbers a message asks for, sorted; None when it does not talk about weeks.

    expect_weeks: the bot has just asked "quelles semaines ?", so bare numbers ("2-4", "1 et 3")
    are weeks; otherwise numbers count only next to the word "semaine" or a date.
    """
    if not weeks:
        return None
    valid = {w.number for w in weeks}
    year = weeks[0].starts_on.year
    norm = normalize(text)
    norm = re.sub(r"(\d)(?:e|eme|ere)\b", r"\1", norm)  # "3e semaine" → "3 semaine"

    # split the exclusion part off: "tout l'ete sauf la semaine 3", "pas la 3"
    included_part, excluded_part = norm, ""
    match = _EXCEPT.search(norm)
    if match:
        tail = norm[match.end() :]
        if (
            re.match(r"\s*\d", tail)
            or _DATE.match(tail.strip())
            or re.match(r"\s*(?:la\s+|les\s+)?(?:semaines?\s+)?\w+ieme", tail)
        ):
            included_part, excluded_part = norm[: match.start()], tail

    def mentions(fragment: str, strict: bool) -> list[int]:
        from_dates = _dates_to_weeks(fragment, weeks, year)
        no_dates = _DATE.sub(" ", fragment)
        if strict and not _WEEK_WORD.search(no_dates):
            return from_dates
        if _WEEK_WORD.search(no_dates):
            # keep only the part from the first "semaine" on: "camp 9-12 ans semaines 2 a 4"
            start = _WEEK_WORD.search(no_dates).start()
            before = re.search(r"\d{1,2}\s*$", no_dates[:start])  # "la 2 semaine" (from "2e")
            no_dates = no_dates[before.start() if before else start :]
        no_dates = re.sub(r"\b\d+\s*(?:ans|an|\$|h|heures?|niveau)\b", " ", no_dates)
        no_dates = re.sub(r"\b(?:niveau|nv|niv|level|u)\s*\d+\b", " ", no_dates)
        return from_dates + [n for n in _numbers_in(no_dates) if n in valid]

    all_weeks = bool(_ALL_WEEKS.search(included_part))
    included = mentions(included_part, strict=not expect_weeks)
    excluded = mentions(excluded_part, strict=False) if excluded_part else []
    # "tout l'été" or "toutes sauf la 3" start from every week; otherwise from those named
    base = set(valid) if all_weeks or (excluded and not included) else set(included)
    if not base and not excluded:
        return None
    chosen = sorted(base - set(excluded))
    return chosen


def format_numbers(numbers: Iterable[int]) -> list[str]:
    """Week numbers for display, e.g. [2, 3, 4] → ["2", "3", "4"] (joined by the caller)."""
    return [str(n) for n in sorted(numbers)]


# ---------------------------------------------------------------------------- children


@dataclass(frozen=True)
class Child:
    id: int
    first_name: str
    birth_date: date


BOTH = re.compile(
    r"\bles (?:deux|2)\b|\btous les (?:deux|2)\b|\btoutes les (?:deux|2)\b|\bmes (?:deux|2)\b"
    r"|\bles 2 enfants\b|\bnos (?:deux|2)\b|\btout le monde\b|\bles enfants\b|\bles trois\b"
    r"|\bles 3\b|\btous\b"
)
OLDEST = re.compile(
    r"\b(?:plus vieux|plus vieille|plus grand|plus grande|aine|ainee|la grande|le grand|ma grande"
    r"|mon grand)\b"
)
YOUNGEST = re.compile(
    r"\b(?:plus jeune|plus petit|plus petite|cadet|cadette|bebe|le petit|la petite|mon petit"
    r"|ma petite|ti gars|ti-gars|tite|le bebe)\b"
)


def parse_children(
    text: str, children: Sequence[Child], allow_number: bool = False
) -> list[int] | None:
    """Which children of the family the message names; None when it names none.

    Understands first names (no accents, small typos), "les deux", "ma plus vieille",
    "mon plus jeune", and a bare choice number when the bot has just listed the children.
    """
    if not children:
        return None
    norm = normalize(text)
    tokens = re.findall(r"[a-z0-9\-]+", norm)
    named: list[int] = []
    for child in children:
        name = normalize(child.first_name)
        parts = [p for p in re.split(r"[\s\-]+", name) if p]
        if re.search(r"\b" + re.escape(name) + r"\b", norm):
            named.append(child.id)
            continue
        for token in tokens:
            if len(token) >= 3 and (
                fuzz.ratio(token, name) >= 80 or (len(parts) > 1 and token == parts[0])
            ):
                named.append(child.id)
                break
    if named:
        return sorted(set(named), key=[c.id for c in children].index)
    if BOTH.search(norm) and len(children) >= 2:
        return [c.id for c in children]
    by_age = sorted(children, key=lambda c: c.birth_date)
    if OLDEST.search(norm):
        return [by_age[0].id]
    if YOUNGEST.search(norm):
        return [by_age[-1].id]
    if allow_number:
        number = parse_small_number(norm, maximum=len(children))
        if number:
            return [children[number - 1].id]
    return None


NAME_FILLERS = {
    "c'est",
    "cest",
    "c",
    "pour",
    "mon",
    "ma",
    "mes",
    "le",
    "la",
    "les",
    "un",
    "une",
    "de",
    "du",
    "fils",
    "fille",
    "gars",
    "garcon",
    "enfant",
    "enfants",
    "petit",
    "petite",
    "bebe",
    "svp",
    "stp",
    "merci",
    "elle",
    "lui",
    "il",
    "s'appelle",
    "sappelle",
    "appelle",
    "nom",
    "prenom",
    "son",
    "sa",
    "est",
    "inscrire",
    "plutot",
    "non",
    "oui",
    "ok",
    "et",
    "au",
    "aux",
    "camp",
    "semaine",
    "semaines",
    "niveau",
    "parc",
    "je",
    "veux",
    "voudrais",
    "aimerais",
    "moi",
    "ben",
    "bin",
    "pis",
    "euh",
    "alors",
    "ah",
    "oh",
    "bonjour",
    "allo",
    "salut",
    "qui",
    "quoi",
    "aucun",
    "aucune",
    "deux",
    "trois",
    "tous",
    "toutes",
    "tout",
    "jour",
    "jours",
    "ete",
    "natation",
    "soccer",
    "piscine",
    "options",
    "option",
    "service",
    "garde",
    "velo",
    "taille",
    "versement",
    "code",
    "client",
    "numero",
    "telephone",
    "pourquoi",
    "comment",
    "sais",
    "pas",
    "pardon",
    "hein",
    "attends",
    "attend",
    "minute",
    "rien",
    "personne",
    "help",
    "aide",
    "arrete",
    "arreter",
    "stop",
    "continuer",
    "panier",
    "payer",
    "agent",
    "humain",
    "ne",
    "plus",
    "bonsoir",
    "vieux",
    "vieille",
    "jeune",
    "grand",
    "grande",
    "cadet",
    "cadette",
    "aine",
    "ainee",
}


def unknown_name(text: str) -> str | None:
    """A first name said where a child was asked for, when it is not one of the family's
    ("c'est pour Olivier" → "Olivier"): one word of letters once the usual filler words are
    set aside; None when the message says anything else."""
    raw_words = re.findall(r"[^\W\d_]+(?:[-'][^\W\d_]+)*", text or "")
    left = [w for w in raw_words if normalize(w) not in NAME_FILLERS]
    if len(left) != 1 or len(left[0]) < 3 or len(raw_words) > 6:
        return None
    word = left[0]
    if parse_yes_no(word) is not None:
        return None
    return word[:1].upper() + word[1:]


# ---------------------------------------------------------------------------- options


@dataclass
class OptionsChoice:
    """What the message says about options: code → True (wanted), False (refused).

    weeks: code → the week numbers it is limited to ("service de garde semaine 2 seulement");
    absent means every week of the registration.
    """

    wanted: dict[str, bool] = field(default_factory=dict)
    weeks: dict[str, list[int]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.wanted


_GARDE = re.compile(
    r"\bservices? de garde\b|\bserv(?:ice)? garde\b|\bsdg\b|\bsg\b|\bla garde\b|\bgarde\b"
    r"|\bservice de gardes\b|\bservice garde\b"
)
_VELO = re.compile(
    r"\btransports? (?:a |en )?velo\b|\bvelos?\b|\bbicycle\w*\b|\bbike\b|\btransport\b"
)
_NEGATION = re.compile(
    r"\b(?:pas|sans|aucun|aucune|plus|enleve|enlever|retire|retirer|annule|annuler|non|ni|cancel\w*"
    r"|oublie)\b"
)
_NONE = re.compile(
    r"^(?:non|aucun|aucune|rien|pas d'?\s?options?|sans options?|aucune options?|non merci"
    r"|ni l'un ni l'autre|pas besoin|nope|nan|none|non aucun|c'est correct|pas necessaire)\b"
)
_ALL_OPTIONS = re.compile(
    r"\bles deux\b|\bles 2\b|\btoutes? les (?:deux|options)\b|\bles deux options\b"
    r"|\bgarde et (?:le )?velo\b"
)


def _clauses(norm: str) -> list[str]:
    return [
        c
        for c in re.split(
            r",|;|\bmais\b|\bpuis\b|\bpis\b|\bet\b(?= (?:pas|sans|le|la|avec|du|de))", norm
        )
        if c.strip()
    ]


def parse_options(text: str, weeks: Sequence[Week] = (), asked: bool = False) -> OptionsChoice:
    """Options named in a message, with negation ("pas de service de garde") handled per clause.

    asked: the bot has just asked about options, so "non"/"aucun" refuse both and "les deux"
    takes both.
    """
    norm = normalize(text)
    choice = OptionsChoice()
    if asked and _NONE.search(norm) and not (_GARDE.search(norm) or _VELO.search(norm)):
        return OptionsChoice(wanted={"garde": False, "velo": False})
    if asked and _ALL_OPTIONS.search(norm):
        return OptionsChoice(wanted={"garde": True, "velo": True})
    for clause in _clauses(norm):
        for code, pattern in (("garde", _GARDE), ("velo", _VELO)):
            found = pattern.search(clause)
            if not found:
                continue
            before = clause[: found.start()]
            negated = bool(_NEGATION.search(before[-25:]))
            choice.wanted[code] = not negated
            if not negated and weeks:
                limited = parse_weeks(clause[found.end() :], weeks)
                if limited:
                    choice.weeks[code] = limited
    return choice


# ---------------------------------------------------------------------------- catalog matching


@dataclass(frozen=True)
class Named:
    id: int
    name: str
    aliases: tuple[str, ...] = ()


_CATEGORY_WORDS = {
    "camp_de_jour": ("camp de jour", "camp", "camps", "camp d'ete", "terrain de jeux", "day camp"),
    "natation": ("natation", "piscine", "nage", "nager", "cours de natation", "swimming", "swim"),
    "sport": ("soccer", "foot", "football", "ballon", "sport"),
}


def category_aliases(category: str, name: str) -> tuple[str, ...]:
    return (name,) + _CATEGORY_WORDS.get(category, ())


def best_match(text: str, candidates: Sequence[Named], threshold: int = 80) -> int | None:
    """Id of the candidate whose name (or alias) the message mentions, typos and accents tolerated.

    Each name is compared with windows of the message of the same length in words, so
    "au parc des erabels svp" matches "Parc des Érables".
    """
    norm = normalize(text)
    tokens = norm.split()
    best: tuple[float, int] | None = None
    for cand in candidates:
        for alias in (cand.name, *cand.aliases):
            alias_norm = normalize(alias)
            if not alias_norm:
                continue
            size = len(alias_norm.split())
            if re.search(r"\b" + re.escape(alias_norm) + r"\b", norm):
                score = 100.0 + len(
                    alias_norm
                )  # exact, longer aliases win ("camp de jour" over "camp")
            else:
                windows = [
                    " ".join(tokens[i : i + size]) for i in range(max(1, len(tokens) - size + 1))
                ]
                hit = (
                    process.extractOne(alias_norm, windows, scorer=fuzz.ratio) if windows else None
                )
                score = float(hit[1]) if hit else 0.0
                if len(alias_norm) < 5:
                    score = 0.0 if score < 100 else score  # short words must be exact
            if score >= threshold and (best is None or score > best[0]):
                best = (score, cand.id)
    return best[1] if best else None


def parse_level(text: str) -> int | None:
    norm = normalize(text)
    match = re.search(r"\b(?:niveau|niv|nv|level|junior|n)\s*\.?\s*(\d{1,2})\b", norm)
    if match:
        return int(match.group(1))
    match = re.search(r"\b(\d{1,2})\s*(?:e|eme)?\s+niveau\b", norm)
    return int(match.group(1)) if match else None


def site_words(name: str) -> tuple[str, ...]:
    """Aliases of a site: "Parc des Érables" is also "des erables", "erables"."""
    norm = normalize(name)
    aliases = [norm]
    stripped = re.sub(r"^(?:parc|centre|ecole|aréna|arena|piscine)\s+", "", norm)
    if stripped != norm:
        aliases.append(stripped)
        core = re.sub(r"^(?:de la|des|du|de l'|de|la|le|les|l')\s*", "", stripped)
        if core and core != stripped:
            aliases.append(core)
    return tuple(aliases)
