"""Facts of a registration said before the parent is identified, kept parsed, never as words.

"Je voudrais inscrire Léa au camp de jour, semaines 2 à 4 ; elle a le TDAH" must not end up in
a slot (slots live in the tracker store): what is kept in `pending_facts` is what the message
says about the registration, parsed against the public catalog — first names, which child
("les deux", "la plus vieille"), the program, site and level ids, week numbers, options, a
T-shirt size — as JSON. A clause that mentions health, medication or a NAS is not read at all.
Once the family is known, `as_text` says those facts back in the words the registration form
parses, as if the parent had just said them.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from ..privacy.sensitive import mentions_sensitive
from . import parsing, readings
from .backend_client import BackendError, backend
from .context import Context
from .reading import lexicon
from .reading.per_child import per_child

log = logging.getLogger(__name__)

MAX_NAMES = 4
_WHICH = {"both": "les deux", "oldest": "la plus vieille", "youngest": "le plus jeune"}
# a first name written in lowercase is recognised after these words ("inscrire lea")
_BEFORE_NAME = lexicon.word_set("names", "before_name")
_NOT_NAMES = lexicon.word_set("names", "not_names")
_GREETINGS = lexicon.word_set("names", "greetings")
_NOT_OPENERS = lexicon.word_set("names", "not_openers")


def _clauses(text: str) -> list[str]:
    return [c for c in re.split(r"[,;.!?\n]+|\bmais\b", text) if c.strip()]


def _catalog_words(ctx: Context | None) -> set[str]:
    if ctx is None:
        return set()
    found: set[str] = set()
    for named in (*ctx.program_names(), *ctx.site_names()):
        for alias in (named.name, *named.aliases):
            found.update(parsing.words(alias))
    return found


def _names(text: str, vocabulary: set[str]) -> list[str]:
    found: list[str] = []
    for clause in _clauses(text):
        for name in _clause_names(clause, vocabulary):
            if name not in found:
                found.append(name)
    return found


def _clause_names(text: str, vocabulary: set[str]) -> list[str]:
    # "J'aimerais" is two words; "Marie-Ève" is one
    spans = list(re.finditer(r"[^\W\d_]+(?:-[^\W\d_]+)*", text))
    raw = [m.group(0) for m in spans]
    found: list[str] = []
    # "lea au camp": a lowercase first name opens the clause (after a greeting)
    opener = next((i for i, w in enumerate(raw) if parsing.normalize(w) not in _GREETINGS), None)
    for i, word in enumerate(raw):
        norm = parsing.normalize(word)
        if (
            len(norm) < 2
            or norm in parsing.NAME_FILLERS
            or norm in _NOT_NAMES
            or norm in vocabulary
            or norm in parsing.MONTHS
            or parsing.parse_yes_no(word) is not None
        ):
            continue
        after_cue = i > 0 and parsing.normalize(raw[i - 1]) in _BEFORE_NAME
        # "mettez-lui un M" opens with a verb, not a name
        opens = i == opener and len(norm) >= 3 and norm.split("-")[0] not in _NOT_OPENERS
        if word[:1].isupper() and not word.isupper() or after_cue or opens:
            name = word[:1].upper() + word[1:]
            if name not in found:
                found.append(name)
    return found


def parse_facts(text: str, ctx: Context | None) -> dict[str, Any]:
    """What a message says about a registration, without the family (ctx: the catalog only)."""
    kept = " , ".join(c for c in _clauses(text) if not mentions_sensitive(c))
    facts: dict[str, Any] = {}
    norm = parsing.normalize(kept)
    names = _names(kept, _catalog_words(ctx))
    if names:
        facts["names"] = names[:MAX_NAMES]
    for which, pattern in (
        ("both", parsing.BOTH),
        ("oldest", parsing.OLDEST),
        ("youngest", parsing.YOUNGEST),
    ):
        if pattern.search(norm):
            facts["which"] = which
            break
    size = readings.tshirt_size(kept, asked=False)
    if size:
        facts["tshirt"] = size
    if ctx is None:
        return facts
    program = parsing.best_match(kept, ctx.program_names())
    if program is not None:
        facts["program"] = program
    site = parsing.best_match(kept, ctx.site_names(program))
    if site is not None:
        facts["site"] = site
    level = parsing.parse_level(kept)
    if level is not None:
        facts["level"] = level
    levels = _levels_by_name(kept, names)
    if len(levels) >= 2:
        facts["levels"] = levels
    if program is not None:
        label = _age_group_named(norm, ctx, program)
        if label:
            facts["age_group"] = label
    pool = ctx.weeks_of_program(program)
    weeks = parsing.parse_weeks(kept, pool)
    if weeks:
        facts["weeks"] = weeks
    choice = parsing.parse_options(kept, pool)
    if not choice.empty:
        facts["options"] = {
            code: (choice.weeks.get(code) or True) if wanted else False
            for code, wanted in choice.wanted.items()
        }
    if len(names) >= 2:
        each = per_child(kept, [(n, n) for n in names], pool)
        if each:
            facts["per_name"] = each
    return facts


def _levels_by_name(text: str, names: list[str]) -> dict[str, int]:
    """ "Léa niveau 5 et Thomas niveau 2": the level in the words after each name."""
    norm = parsing.normalize(text)
    places = sorted(
        (found.start(), name)
        for name in names
        if (found := re.search(rf"\b{re.escape(parsing.normalize(name))}\b", norm))
    )
    levels: dict[str, int] = {}
    for i, (start, name) in enumerate(places):
        end = places[i + 1][0] if i + 1 < len(places) else len(norm)
        level = parsing.parse_level(norm[start:end])
        if level is not None:
            levels[name] = level
    return levels


def _age_group_named(norm: str, ctx: Context, program: int) -> str | None:
    """An age group of the program named in the message ("le groupe 9-12 ans")."""
    for group in ctx.program(program).get("groups", []):
        label = parsing.normalize(str(group.get("label") or ""))
        if label and not group.get("level") and re.search(rf"\b{re.escape(label)}\b", norm):
            return str(group["label"])
    return None


def merge(previous: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    merged = {**previous, **new}
    if previous.get("names") and new.get("names"):
        merged["names"] = list(dict.fromkeys(previous["names"] + new["names"]))[:MAX_NAMES]
    if previous.get("options") and new.get("options"):
        merged["options"] = {**previous["options"], **new["options"]}
    return merged


def load_facts(value: Any) -> dict[str, Any]:
    try:
        facts = json.loads(value) if isinstance(value, str) and value else {}
    except ValueError:
        return {}
    return facts if isinstance(facts, dict) else {}


async def kept_facts(previous: Any, text: str) -> str | None:
    """The `pending_facts` slot after a message: JSON of parsed facts, marked `noted` as soon
    as the parent asked for something (the bot then says it kept the request)."""
    facts = load_facts(previous)
    if not text or not any(c.isalpha() for c in text):
        return json.dumps(facts) if facts else None
    try:
        ctx: Context | None = Context(family={}, catalog=await backend.catalog())
    except BackendError as err:  # the form asks for what could not be read
        log.info("catalog unavailable for the facts kept: %s", err.code)
        ctx = None
    merged = merge(facts, parse_facts(text, ctx))
    merged["noted"] = True
    return json.dumps(merged, ensure_ascii=False)


def as_text(value: Any, ctx: Context) -> str:
    """The kept facts in the words the registration form parses."""
    facts = load_facts(value)
    parts: list[str] = []
    levels = facts.get("levels") or {}
    each: dict[str, dict[str, Any]] = facts.get("per_name") or {}
    # each child's own weeks and options come last, each after the child's name: what is
    # said of every child comes first, outside any child's words
    own = list(each.values()) if each and facts.get("names") else []
    if own:
        names_last = [_child_text(str(n), levels.get(n), each.get(n, {})) for n in facts["names"]]
    elif facts.get("names") and levels:
        parts.append(
            " et ".join(
                f"{n} niveau {int(levels[n])}" if n in levels else str(n) for n in facts["names"]
            )
        )
    elif facts.get("names"):
        parts.append(" et ".join(str(n) for n in facts["names"]))
    elif facts.get("which") in _WHICH:
        parts.append(_WHICH[facts["which"]])
    try:
        if facts.get("program") is not None:
            parts.append(ctx.program(int(facts["program"]))["name"])
        site = facts.get("site")
        if site is not None:
            parts.append(next(s["name"] for s in ctx.catalog.get("sites", []) if s["id"] == site))
    except (StopIteration, KeyError, TypeError, ValueError):
        pass  # the catalog changed since: the form asks again
    if facts.get("level") is not None and not levels:
        parts.append(f"niveau {int(facts['level'])}")
    if facts.get("age_group"):
        parts.append(f"groupe {facts['age_group']}")
    if facts.get("weeks") and not (own and all("weeks" in e for e in own)):
        parts.append(_weeks_text(facts["weeks"]))
    if not (own and all("options" in e for e in own)):
        parts += _options_text(facts.get("options") or {})
    if facts.get("tshirt"):
        parts.append(f"taille {facts['tshirt']}")
    return ", ".join(parts + (names_last if own else []))


_OPTION_WORDS = {"garde": "service de garde", "velo": "transport à vélo"}


def _weeks_text(weeks: list[Any]) -> str:
    return "semaines " + " et ".join(str(int(n)) for n in weeks)


def _options_text(options: dict[str, Any]) -> list[str]:
    parts = []
    for code, wanted in options.items():
        if code not in _OPTION_WORDS:
            continue
        if wanted is False:
            parts.append(f"pas de {_OPTION_WORDS[code]}")
        elif isinstance(wanted, list):
            parts.append(
                f"{_OPTION_WORDS[code]} semaines " + " et ".join(str(int(n)) for n in wanted)
            )
        else:
            parts.append(f"avec {_OPTION_WORDS[code]}")
    return parts


def _child_text(name: str, level: Any, own: dict[str, Any]) -> str:
    """One child's own facts, in the words per_child reads back."""
    words = [name]
    if level is not None:
        words.append(f"niveau {int(level)}")
    if own.get("weeks"):
        words.append(_weeks_text(own["weeks"]))
    if "options" in own:
        chosen = {c: (w or True) for c, w in (own["options"] or {}).items()}
        words += _options_text(chosen) if chosen else ["sans rien"]
    return " ".join(words)
