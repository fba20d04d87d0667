"""Every response in bot/domain.yml is said somewhere, and every response an action names exists.

`rasa data validate` only sees rules and stories, so it calls most responses unused; this test
reads the actions too. Names built at run time follow a few families (utter_ask_<slot>,
utter_reask_<slot>, utter_explain_<slot>, utter_why_<slot>, utter_installments_refused_<reason>,
utter_fragment_option_<code>, utter_fragment_dest_<channel>)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
DOMAIN = yaml.safe_load((ROOT / "bot" / "domain.yml").read_text(encoding="utf-8"))
ACTIONS = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "bot" / "actions").glob("*.py"))
RULES = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "bot" / "data").rglob("*.yml"))
# uttered by Rasa itself: the core fallback and /restart
RASA_DEFAULTS = {"utter_default", "utter_restart"}
SLOTS = [s for form in DOMAIN["forms"].values() for s in form["required_slots"]]
FAMILIES = {
    "utter_ask_": SLOTS,
    "utter_reask_": SLOTS,
    "utter_explain_": SLOTS,
    "utter_why_": [*SLOTS, "generic"],
    "utter_installments_refused_": ["not_day_camp", "below_minimum", "too_close_to_start"],
    "utter_fragment_option_": ["garde", "velo", "all", "none"],
    "utter_fragment_dest_": ["sms", "email"],
}


def built_names() -> set[str]:
    return {prefix + suffix for prefix, suffixes in FAMILIES.items() for suffix in suffixes}


def retrieval_responses() -> set[str]:
    """utter_<intent>/<sub> of every retrieval sub-intent the NLU trains: the ResponseSelector
    picks it and the retrieval intent's action says it."""
    subs = re.findall(r"- intent: ([a-z0-9_]+/[a-z0-9_]+)", RULES)
    return {f"utter_{sub}" for sub in subs}


def test_every_response_is_used() -> None:
    literal = set(re.findall(r"utter_[a-z0-9_]+", ACTIONS + RULES)) | retrieval_responses()
    unused = [
        name
        for name in DOMAIN["responses"]
        if name not in literal and name not in RASA_DEFAULTS and name not in built_names()
    ]
    assert unused == []


def test_every_response_named_by_an_action_exists() -> None:
    named = {
        n for n in re.findall(r"\"(utter_[a-z0-9_]+)\"", ACTIONS + RULES) if not n.endswith("_")
    }
    named |= {n for n in re.findall(r"- action: (utter_[a-z0-9_]+)", RULES)}
    missing = sorted(n for n in named if n not in DOMAIN["responses"])
    assert missing == []
