"""Scripted parents: conversations written as parents write, played against the running stack,
judged on the backend's final state (tests/e2e/parents/*.yml).

A script names a demo family, the parent's first message, and what the parent answers at each
step the bot asks (`answers`: a step name from tests/e2e/turn_rules.py, "reg_options" or the
finer "reg_options_garde", or a lowercase needle of the bot's last message when the key has a
space; `other` answers any other turn). A list is said
in order, one item each time the bot asks that step, the last one repeating. `<code>` is the
one-time code of the demo outbox, `<client>` and `<phone>` the family's numbers, `<end>` means the
parent stops writing. The conversation also ends on a payment link.

Every script plays with a fresh copy of its demo family (same children, birth dates, T-shirt sizes,
residency and status; its own client number and phone), so scripts neither see each other's carts
nor depend on their order.
"""

from __future__ import annotations

import re
import threading
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from tests.e2e.conversation import Parent
from tests.e2e.turn_rules import Rules, turn_violations

SCRIPTS_DIR = Path(__file__).with_name("parents")
DEMO_FAMILIES = {"julie": "100001", "marc": "100002", "sophie": "100003", "karim": "100004"}
DEFAULT_ANSWERS = {"id_client_number": "<client>", "id_phone": "<phone>", "id_code": "<code>"}
PAY_LINK = re.compile(r"https?://\S+/p/[A-Za-z0-9_-]+")
REQUIRED_RATE = 0.9  # 27 of 30
MAX_SAME_STEP = 4  # a step asked a fifth time: the parent gives up
_CLONING = threading.Lock()  # scripts play in threads; each copy takes the next free number
HELD = {"held", "offered", "confirmed", "paid"}


@dataclass
class Script:
    name: str
    family: str
    opening: str
    answers: dict[str, list[str]]
    expect: dict[str, Any]
    limit: int = 24
    about: str = ""

    @classmethod
    def from_yaml(cls, data: dict[str, Any]) -> Script:
        answers = {
            str(k): [str(x) for x in (v if isinstance(v, list) else [v])]
            for k, v in (data.get("answers") or {}).items()
        }
        return cls(
            name=data["name"],
            family=data["family"],
            opening=str(data["opening"]),
            answers=answers,
            expect=data.get("expect") or {},
            limit=int(data.get("limit", 24)),
            about=str(data.get("about", "")),
        )

    def parent_lines(self) -> list[str]:
        """Every line the parent may write (placeholders left out)."""
        said = [self.opening] + [line for lines in self.answers.values() for line in lines]
        return [s for s in said if not s.startswith("<")]


def load_scripts(directory: Path = SCRIPTS_DIR) -> list[Script]:
    scripts = []
    for path in sorted(directory.glob("*.yml")):
        for entry in yaml.safe_load(path.read_text(encoding="utf-8"))["parents"]:
            scripts.append(Script.from_yaml(entry))
    return scripts


# --------------------------------------------------------------------------- the family's copy


def clone_family(db: Engine, demo: str) -> tuple[str, str]:
    """A fresh copy of a demo family; returns its client number and phone as a parent types it."""
    from backend.db.models import Family, Person

    with _CLONING, Session(db) as session:
        source = session.scalar(select(Family).where(Family.client_number == DEMO_FAMILIES[demo]))
        assert source is not None, f"demo family {demo} missing"
        taken = set(session.scalars(select(Family.client_number)))
        n = next(i for i in range(1, 9000) if f"{300000 + i}" not in taken)
        client, digits = f"{300000 + n}", f"418555{2000 + n:04d}"
        copy = Family(
            client_number=client,
            phone=f"+1{digits}",
            phone_can_text=source.phone_can_text,
            email=None if source.email is None else f"parent.{client}@example.com",
            address=source.address,
            resident=source.resident,
            status=source.status,
            created_at=source.created_at,
        )
        for member in source.members:
            copy.members.append(
                Person(
                    first_name=member.first_name,
                    last_name=member.last_name,
                    birth_date=member.birth_date,
                    is_adult=member.is_adult,
                    is_payer=member.is_payer,
                    tshirt_size=member.tshirt_size,
                )
            )
        session.add(copy)
        session.commit()
    return client, f"{digits[:3]} {digits[3:6]}-{digits[6:]}"


# --------------------------------------------------------------------------- the backend's state


def family_state(db: Engine, client: str) -> dict[str, Any]:
    """The family's live lines grouped per child and group, and its latest order."""
    lines_query = text(
        """
        SELECT l.id, p.first_name AS child, pr.name AS program, g.label AS grp, si.name AS site,
               s.number AS week, l.status, l.tshirt_size, l.order_id
        FROM line l
        JOIN person p ON p.id = l.person_id
        JOIN family f ON f.id = p.family_id
        JOIN session s ON s.id = l.session_id
        JOIN activity_group g ON g.id = s.group_id
        JOIN program pr ON pr.id = g.program_id
        LEFT JOIN site si ON si.id = g.site_id
        WHERE f.client_number = :client AND l.status NOT IN ('released', 'cancelled')
        ORDER BY s.number, l.id
        """
    )
    options_query = text(
        "SELECT lo.line_id, so.code FROM line_option lo "
        "JOIN session_option so ON so.id = lo.session_option_id WHERE lo.line_id = :line"
    )
    order_query = text(
        "SELECT o.id, o.status, o.installment_count FROM orders o JOIN family f "
        "ON f.id = o.family_id WHERE f.client_number = :client ORDER BY o.id DESC LIMIT 1"
    )
    entries: dict[tuple[str, str, str, str | None], dict[str, Any]] = {}
    with db.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(lines_query, {"client": client})]
        order = conn.execute(order_query, {"client": client}).first()
        for row in rows:
            key = (row["child"], row["program"], row["grp"], row["site"])
            entry = entries.setdefault(
                key,
                {
                    "child": key[0],
                    "program": key[1],
                    "group": key[2],
                    "site": key[3],
                    "weeks": [],
                    "waitlist": [],
                    "options": {},
                    "tshirt": set(),
                    "orders": set(),
                },
            )
            waiting = row["status"] == "waitlisted"
            entry["waitlist" if waiting else "weeks"].append(row["week"])
            if not waiting:
                entry["orders"].add(row["order_id"])
            if row["tshirt_size"]:
                entry["tshirt"].add(row["tshirt_size"])
            for option in conn.execute(options_query, {"line": row["id"]}):
                entry["options"].setdefault(option.code, []).append(row["week"])
    return {
        "lines": list(entries.values()),
        "order": None if order is None else dict(order._mapping),
    }


def _plain(value: str | None) -> str:
    decomposed = unicodedata.normalize("NFD", value or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower().strip()


def state_differences(expect: dict[str, Any], state: dict[str, Any]) -> list[str]:
    """What the backend holds that the script did not expect, in words."""
    problems: list[str] = []
    actual = list(state["lines"])
    for wanted in expect.get("lines") or []:
        found = [
            e
            for e in actual
            if _plain(e["child"]) == _plain(wanted["child"])
            and _plain(e["program"]) == _plain(wanted["program"])
            and _plain(e["group"]) == _plain(wanted["group"])
            and ("site" not in wanted or _plain(e["site"]) == _plain(wanted["site"]))
        ]
        label = f"{wanted['child']} {wanted['program']} {wanted['group']}"
        if not found:
            problems.append(f"missing: {label} {wanted.get('site', '')}".strip())
            continue
        got = found[0]
        actual.remove(got)
        weeks = sorted(wanted.get("weeks", [1]))
        if sorted(got["weeks"]) != weeks:
            problems.append(f"{label}: weeks {sorted(got['weeks'])}, expected {weeks}")
        waitlist = sorted(wanted.get("waitlist", []))
        if sorted(got["waitlist"]) != waitlist:
            problems.append(f"{label}: waitlist {sorted(got['waitlist'])}, expected {waitlist}")
        options = wanted.get("options") or {}
        if isinstance(options, list):
            options = {code: weeks + waitlist for code in options}
        want_options = {k: sorted(v) for k, v in options.items()}
        got_options = {k: sorted(v) for k, v in got["options"].items()}
        if got_options != want_options:
            problems.append(f"{label}: options {got_options}, expected {want_options}")
        if "tshirt" in wanted and got["tshirt"] != {wanted["tshirt"]}:
            problems.append(
                f"{label}: T-shirt {sorted(got['tshirt'])}, expected {wanted['tshirt']}"
            )
    for extra in actual:
        problems.append(
            f"unexpected: {extra['child']} {extra['program']} {extra['group']} "
            f"{extra['site'] or ''} weeks {extra['weeks']} waitlist {extra['waitlist']}"
        )
    order = state["order"]
    wanted_order = expect.get("order")
    if wanted_order in (None, "none"):
        if order is not None:
            problems.append(f"an order was placed ({order['installment_count']} installment(s))")
    else:
        if order is None:
            problems.append(f"no order, expected one in {wanted_order} installment(s)")
        else:
            if order["installment_count"] != int(wanted_order):
                problems.append(
                    f"order in {order['installment_count']} installment(s), expected {wanted_order}"
                )
            unbilled = [e["child"] for e in state["lines"] if e["orders"] - {order["id"]}]
            if unbilled:
                problems.append(f"held lines outside the order: {unbilled}")
    return problems


# --------------------------------------------------------------------------- playing


@dataclass
class Outcome:
    script: Script
    problems: list[str] = field(default_factory=list)
    transcript: str = ""
    turn_problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems

    def report(self) -> str:
        lines = [f"--- {self.script.name}: {self.script.about}".rstrip(": ")]
        lines += [f"  * {p}" for p in self.problems]
        lines += [f"  (turn rule) {p}" for p in self.turn_problems]
        lines += ["  " + t for t in self.transcript.splitlines()]
        return "\n".join(lines)


def _fill(line: str, parent: Parent, client: str, phone: str) -> str:
    if "<code>" in line:
        line = line.replace("<code>", parent.latest_code(re.sub(r"\D", "", phone)))
    return line.replace("<client>", client).replace("<phone>", phone)


def play(script: Script, rasa_url: str, backend_url: str, db: Engine, rules: Rules) -> Outcome:
    client, phone = clone_family(db, script.family)
    parent = Parent(rasa_url, backend_url, sender=f"script-{uuid.uuid4().hex[:10]}")
    outcome = Outcome(script)
    answers = {**{k: [v] for k, v in DEFAULT_ANSWERS.items()}, **script.answers}
    asked: dict[str, int] = {}
    previous: str | None = None
    try:
        replies = parent.say(_fill(script.opening, parent, client, phone))
        while not any(PAY_LINK.search(str(r.get("text") or "")) for r in replies):
            if parent.messages_sent >= script.limit:
                outcome.problems.append(f"still talking after {script.limit} parent messages")
                break
            texts = [t for t in (parent.turns[-1][1] if parent.turns else []) if t.strip()]
            last = texts[-1] if texts else ""
            name = rules.response_of(last)
            if name in rules.config["same_step"] and previous:
                candidates = [previous]
            else:
                candidates = [k for k in answers if " " in k and k in last.lower()]
                candidates += [rules.asked(name), rules.step_of(name)]
            # "other": a turn that asks no known step (a greeting, a confirmation, a closing)
            fallback = "other" if rules.step_of(name) is None else str(rules.step_of(name))
            step = next((c for c in candidates if c in answers), fallback)
            previous = step
            if step not in answers:
                outcome.problems.append(f"the script has no answer to: {last[:160]!r} ({step})")
                break
            if asked.get(step, 0) >= MAX_SAME_STEP:
                outcome.problems.append(f"{step} asked {MAX_SAME_STEP + 1} times")
                break
            lines = answers[step]
            line = lines[min(asked.get(step, 0), len(lines) - 1)]
            asked[step] = asked.get(step, 0) + 1
            if line == "<end>":
                break
            replies = parent.say(_fill(line, parent, client, phone))
    except Exception as err:  # a stack failure is this script's failure, not the run's
        outcome.problems.append(f"{type(err).__name__}: {err}")
    outcome.problems += state_differences(script.expect, family_state(db, client))
    outcome.turn_problems = turn_violations(rules, parent.turns)
    outcome.transcript = (
        f"(family {script.family}: client {client}, phone {phone})\n" + parent.dump()
    )
    return outcome


def play_all(
    scripts: list[Script],
    rasa_url: str,
    backend_url: str,
    db: Engine,
    workers: int = 2,
    bot_root: Path | None = None,
    progress: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Plays the scripts, `workers` at a time; the bot's responses are read from
    `bot_root`/bot/domain.yml (default: this checkout). `progress` hears of each outcome."""
    from concurrent.futures import ThreadPoolExecutor

    rules = Rules.load(bot_root) if bot_root else Rules.load()

    def one(script: Script) -> Outcome:
        outcome = play(script, rasa_url, backend_url, db, rules)
        if progress is not None:
            progress(outcome)
        return outcome

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, scripts))


def summary(outcomes: list[Outcome]) -> str:
    passed = sum(o.passed for o in outcomes)
    head = f"{passed}/{len(outcomes)} scripted parents end with the expected backend state"
    rate = passed / len(outcomes) if outcomes else 0.0
    failures = [o.report() for o in outcomes if not o.passed]
    return "\n".join([f"{head} ({rate:.0%}; required {REQUIRED_RATE:.0%})", *failures])
