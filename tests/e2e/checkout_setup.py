"""Arranging what the checkout tests start from: a demo family with places already held in its
cart (through the backend's own routes, as another conversation would have), then the parent
identified in a new conversation and out of the registration form, ready to say « passer la
commande ». The registration conversation itself is tested elsewhere."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from tests.e2e.conversation import Parent, http_json

# the bot's own formatting module, loaded alone: this environment has no rasa_sdk
_spec = importlib.util.spec_from_file_location(
    "bot_formatting", Path(__file__).resolve().parents[2] / "bot" / "actions" / "formatting.py"
)
assert _spec and _spec.loader
_formatting = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_formatting)
local_time = _formatting.local_time

SERVICE = {"Authorization": "Bearer dev-service-secret"}


def demo_family(number: int) -> tuple[str, str]:
    """(client number, phone) of the n-th demo family of the full week (1-based): one parent,
    one child « Enfant » aged 7 on 30 September, no courriel on file."""
    return f"9{number:05d}", f"418-555-{9000 + number - 1:04d}"


def family_token(parent: Parent, client: str, phone: str) -> str:
    started = http_json(
        "POST",
        f"{parent.backend_url}/api/identify/start",
        {"client_number": client, "phone": phone},
        SERVICE,
    )
    code = parent.latest_code(re.sub(r"\D", "", phone))
    verified = http_json(
        "POST",
        f"{parent.backend_url}/api/identify/verify",
        {"challenge_id": started["challenge_id"], "code": code},
        SERVICE,
    )
    return str(verified["family_token"])


def hold_places(parent: Parent, token: str, category: str, weeks: list[int]) -> dict[str, Any]:
    """Holds `weeks` of the first group of `category` with room, for the family's only child;
    returns the cart."""
    headers = {**SERVICE, "X-Family-Token": token}
    family = http_json("GET", f"{parent.backend_url}/api/family", headers=headers)
    child_id = family["children"][0]["id"]
    catalog = http_json(
        "GET", f"{parent.backend_url}/api/catalog/eligible?child_id={child_id}", headers=headers
    )
    program = next(p for p in catalog["programs"] if p["category"] == category)
    for group in program["groups"]:
        sessions = [s["id"] for s in group["sessions"] if s["number"] in weeks]
        if sessions and all(s["available"] > 0 for s in group["sessions"] if s["id"] in sessions):
            break
    result = http_json(
        "POST",
        f"{parent.backend_url}/api/cart/lines",
        {"child_id": child_id, "session_ids": sessions, "options": [], "tshirt_size": "M"},
        headers,
    )
    assert {r["outcome"] for r in result["results"]} == {"held"}, result
    return dict(result["cart"])


def identified_and_stopped(parent: Parent, client: str, phone: str) -> None:
    """The parent identifies in the conversation, then stops the registration form it opens."""
    parent.say("bonjour, je veux inscrire mon enfant")
    assert "numéro de client" in parent.last_question, parent.dump()
    parent.say(f"mon numéro de client c'est {client} pis mon tel {phone}")
    assert "code" in parent.last_question, parent.dump()
    parent.say(parent.latest_code(re.sub(r"\D", "", phone)))
    parent.say("arrêter")
    assert "continuer" in parent.last_question, parent.dump()


def orders(db: Engine, client: str) -> list[dict[str, Any]]:
    """The family's orders, oldest first, with their number of installments."""
    query = text(
        "SELECT o.id, o.status, o.installment_count, o.total_cents FROM orders o "
        "JOIN family f ON f.id = o.family_id WHERE f.client_number = :client ORDER BY o.id"
    )
    with db.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query, {"client": client})]
