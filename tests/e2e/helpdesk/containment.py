"""The help desk's containment set: questions parents ask, each with its answer key, played
through the REST channel of a running stack and checked on the bot's FIRST reply.

An entry (tests/e2e/helpdesk/questions/<topic>.yml):

    - say: "combien ca coute 3 semaines de camp avec la garde"
      as: visitor             # visitor (not identified) | family (a copy of a demo family,
                              # identified first)
      family: julie           # optional, for `family`: which demo family (default julie)
      expect: utter_faq/price_total   # the response (or a list: any of them) of the first reply
      shows: ["Camp de jour"]         # optional: substrings of the first reply
      price: {activity: "Camp de jour", weeks: 3, garde: true}   # optional: the resident and
                              # non-resident totals, computed from the live catalog, must show

A response name matches with "/" or "_" alike (utter_faq/prices = utter_faq_prices).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from babel.numbers import format_currency
from sqlalchemy import Engine, text

from tests.e2e.conversation import Parent
from tests.e2e.scripted_parents import clone_family
from tests.e2e.turn_rules import Rules

QUESTIONS_DIR = Path(__file__).with_name("questions")
REQUIRED_RATE = 0.9
IDENTIFY_OPENING = "bonjour je veux inscrire mon enfant"
LEAVE_FORM = "arrête"
MAX_IDENTIFY_TURNS = 8


@dataclass(frozen=True)
class Entry:
    say: str
    as_: str
    expect: tuple[str, ...]
    topic: str
    family: str = "julie"
    shows: tuple[str, ...] = ()
    price: dict[str, Any] | None = None

    @classmethod
    def from_yaml(cls, data: dict[str, Any], topic: str) -> Entry:
        expect = data["expect"]
        return cls(
            say=str(data["say"]),
            as_=str(data.get("as", "visitor")),
            expect=tuple(expect if isinstance(expect, list) else [expect]),
            topic=topic,
            family=str(data.get("family", "julie")),
            shows=tuple(data.get("shows") or ()),
            price=data.get("price"),
        )


@dataclass
class Result:
    entry: Entry
    response: str | None = None
    reply: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems


def load_entries(directory: Path = QUESTIONS_DIR) -> list[Entry]:
    entries = []
    for path in sorted(directory.glob("*.yml")):
        for data in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            entries.append(Entry.from_yaml(data, path.stem))
    return entries


def _plain(value: str) -> str:
    return value.replace("\xa0", " ").replace("\u202f", " ")


def _same_response(name: str | None, expected: str) -> bool:
    return name is not None and name.replace("/", "_") == expected.replace("/", "_")


def money(cents: int) -> str:
    return _plain(format_currency(cents / 100, "CAD", locale="fr_CA"))


def expected_totals(db: Engine, price: dict[str, Any]) -> list[str]:
    """The answer key of a price question, from the catalog in the database: the program's
    first sessions (its first group), each at its price plus the options asked, for a resident
    and for a non-resident."""
    options = [code for code in ("garde", "velo") if price.get(code)]
    with db.connect() as conn:
        sessions = conn.execute(
            text(
                "SELECT s.id, s.price_resident_cents, s.price_nonresident_cents FROM session s "
                "JOIN activity_group g ON g.id = s.group_id JOIN program p ON p.id = g.program_id "
                "WHERE p.name = :name AND g.id = (SELECT min(g2.id) FROM activity_group g2 "
                "WHERE g2.program_id = p.id) ORDER BY s.number LIMIT :weeks"
            ),
            {"name": price["activity"], "weeks": int(price.get("weeks", 1))},
        ).all()
        totals = [0, 0]
        for session_id, resident, nonresident in sessions:
            extra = sum(
                conn.execute(
                    text(
                        "SELECT price_cents FROM session_option "
                        "WHERE session_id = :id AND code = :code"
                    ),
                    {"id": session_id, "code": code},
                ).scalar_one()
                for code in options
            )
            totals[0] += resident + extra
            totals[1] += nonresident + extra
    return [money(t) for t in totals]


def _identify(parent: Parent, rules: Rules, client: str, phone: str) -> None:
    """Through the identification form, then out of the registration form it leads to."""
    replies = parent.say(IDENTIFY_OPENING)
    for _ in range(MAX_IDENTIFY_TURNS):
        texts = [str(r.get("text") or "") for r in replies if r.get("text")]
        step = rules.step_of(rules.response_of(texts[-1])) if texts else None
        if step == "id_client_number":
            replies = parent.say(client)
        elif step == "id_phone":
            replies = parent.say(phone)
        elif step == "id_code":
            replies = parent.say(parent.latest_code(phone.replace(" ", "").replace("-", "")))
        else:
            if rules.kind(rules.response_of(texts[-1]) if texts else None) == "step":
                parent.say(LEAVE_FORM)
            return
    raise AssertionError(f"not identified after {MAX_IDENTIFY_TURNS} turns:\n{parent.dump()}")


def play(entry: Entry, rasa_url: str, backend_url: str, db: Engine, rules: Rules) -> Result:
    result = Result(entry)
    parent = Parent(rasa_url, backend_url, sender=f"helpdesk-{uuid.uuid4().hex[:10]}")
    try:
        if entry.as_ == "family":
            client, phone = clone_family(db, entry.family)
            _identify(parent, rules, client, phone)
        replies = [r for r in parent.say(entry.say) if r.get("text")]
    except Exception as err:  # a stack failure is this entry's failure, not the run's
        result.problems.append(f"{type(err).__name__}: {err}")
        return result
    if not replies:
        result.problems.append("no reply")
        return result
    result.reply = _plain(str(replies[0]["text"]))
    result.response = rules.response_of(str(replies[0]["text"]))
    if not any(_same_response(result.response, e) for e in entry.expect):
        result.problems.append(f"first reply from {result.response}, expected {entry.expect}")
    wanted = list(entry.shows) + (expected_totals(db, entry.price) if entry.price else [])
    missing = [w for w in wanted if _plain(w) not in result.reply]
    if missing:
        result.problems.append(f"the first reply lacks {missing}")
    return result


def play_all(
    entries: list[Entry],
    rasa_url: str,
    backend_url: str,
    db: Engine,
    *,
    workers: int = 2,
    progress: Callable[[Result], None] | None = None,
) -> list[Result]:
    rules = Rules.load()

    def one(entry: Entry) -> Result:
        result = play(entry, rasa_url, backend_url, db, rules)
        if progress:
            progress(result)
        return result

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, entries))


def summary(results: list[Result]) -> str:
    passed = sum(r.passed for r in results)
    rate = passed / len(results) if results else 0.0
    lines = [f"help-desk containment: {passed}/{len(results)} answered right ({rate:.0%})"]
    for topic in sorted({r.entry.topic for r in results}):
        mine = [r for r in results if r.entry.topic == topic]
        lines.append(f"  {topic}: {sum(r.passed for r in mine)}/{len(mine)}")
    for r in results:
        if not r.passed:
            lines.append(f"MISS [{r.entry.topic}/{r.entry.as_}] {r.entry.say!r}: "
                         + "; ".join(r.problems) + f" — reply: {r.reply[:140]!r}")
    return "\n".join(lines)
