"""« La fiche santé » through Rasa's REST channel (a web chat), then the backend's state: a
parent not identified hears what the fiche is and is identified first, then gets each child's
personal link instead of a registration question; the link opens the backend's form, which
saves the fiche. Each containment entry of tests/e2e/helpdesk/questions/health.yml gets its
expected first reply (visitors each in a new conversation, the family's in one identified
conversation)."""

from __future__ import annotations

import re
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, text

from tests.e2e.conversation import Parent
from tests.e2e.scripted_parents import clone_family
from tests.e2e.turn_rules import load_domain, template_regex

pytestmark = pytest.mark.e2e

ENTRIES: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "helpdesk" / "questions" / "health.yml").read_text(encoding="utf-8")
)
RESPONSES = load_domain()["responses"]
LINK = re.compile(r"https?://\S+/sante/h1\.\S+")


def came_from(reply: str, response: str) -> bool:
    return any(
        template_regex(str(v.get("text", ""))).fullmatch(reply.strip())
        for v in RESPONSES[response]
    )


def _identify_for_the_fiche(parent: Parent, database: Engine) -> tuple[str, str]:
    """Asks for the fiche before being identified, as a fresh copy of Julie's family (the demo
    family's hourly cap of codes is shared by every test); returns the links' reply and the
    copy's client number."""
    client, phone = clone_family(database, "julie")
    first = parent.say("bonjour, la fiche santé svp")
    assert came_from(first[0]["text"], "utter_faq_fiche_sante"), parent.dump()
    assert "numéro de client" in parent.last_question, parent.dump()
    parent.say(f"{client}, {phone}")
    assert "code" in parent.last_question, parent.dump()
    replies = parent.say(parent.latest_code(re.sub(r"\D", "", phone)))
    texts = [str(r.get("text") or "") for r in replies]
    links = [t for t in texts if came_from(t, "utter_health_links_web")]
    assert links, parent.dump()
    # The links come instead of the registration: no question about a child follows.
    assert "quel enfant" not in parent.last_question.lower(), parent.dump()
    return links[0], client


def test_a_visitor_is_identified_then_fills_the_fiche_through_the_link(
    parent: Parent, database: Engine
) -> None:
    said, client = _identify_for_the_fiche(parent, database)
    thomas = next(line for line in said.splitlines() if "Thomas" in line)
    url = LINK.search(thomas)
    assert url, said
    page = urllib.request.urlopen(url.group(0), timeout=30).read().decode("utf-8")
    assert "Fiche santé de Thomas" in page
    form = {
        "allergies": "",
        "epipen": "non",
        "contact_name": "Julie Tremblay",
        "contact_phone": "418 555-0101",
        "first_aid": "oui",
        "photos": "non",
        "leave_alone": "non",
    }
    request = urllib.request.Request(
        url.group(0), data=urllib.parse.urlencode(form).encode(), method="POST"
    )
    answer = urllib.request.urlopen(request, timeout=30).read().decode("utf-8")
    assert "La fiche santé de Thomas est enregistrée" in answer
    with database.connect() as conn:
        row = conn.execute(
            text(
                "SELECT h.may_give_first_aid, h.may_photograph FROM health_record h "
                "JOIN person p ON p.id = h.person_id JOIN family f ON f.id = p.family_id "
                "WHERE f.client_number = :client AND p.first_name = 'Thomas'"
            ),
            {"client": client},
        ).one()
    assert (bool(row[0]), bool(row[1])) == (True, False)
    # Asked again, Thomas's fiche now reads as filled.
    again = parent.say("pis la fiche sante de thomas")
    assert "Thomas (déjà remplie" in again[0]["text"], parent.dump()


def _check(parent: Parent, entry: dict[str, Any]) -> str | None:
    replies = parent.say(entry["say"])
    first = str(replies[0].get("text") or "") if replies else ""
    expected = entry["expect"] if isinstance(entry["expect"], list) else [entry["expect"]]
    if not any(came_from(first, name) for name in expected):
        return f"{entry['say']!r}: {first!r}"
    missing = [s for s in entry.get("shows") or [] if s not in first]
    return f"{entry['say']!r}: {missing} not in {first!r}" if missing else None


def test_every_health_entry_gets_its_expected_first_reply(
    parent: Parent, database: Engine
) -> None:
    misses: list[str] = []
    for entry in (e for e in ENTRIES if e["as"] == "visitor"):
        visitor = Parent(parent.rasa_url, parent.backend_url, f"e2e-{uuid.uuid4().hex[:10]}")
        if miss := _check(visitor, entry):
            misses.append(miss)
    _identify_for_the_fiche(parent, database)
    for entry in (e for e in ENTRIES if e["as"] == "family"):
        if miss := _check(parent, entry):
            misses.append(miss)
        parent.say("merci")  # as a parent would; the same answer twice in a row reads as a miss
    assert not misses, "\n".join(misses)
