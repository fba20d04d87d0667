"""What a callback request may say: a topic and a step from fixed lists, a child's first name.
Never the parent's own words (they could hold health data or a NAS). Pure."""

from __future__ import annotations

from typing import Final

from backend.domain.errors import RegistrationError

TOPICS: Final = frozenset(
    {
        "registration",  # an inscription under way or wanted
        "payment",  # a link, a declined card, a balance
        "account",  # a new file, a pending approval, a lost client number
        "identification",  # the code never came, the phone on file changed
        "cancellation",
        "waitlist",
        "other",
    }
)
STEPS: Final = frozenset(
    {
        "none",
        "identification",
        "child",
        "activity",
        "group",
        "weeks",
        "options",
        "tshirt",
        "waitlist",
        "checkout",
        "payment",
        "signup",
    }
)
MAX_FIRST_NAME = 40


def summary(topic: str, step: str, child_first_name: str | None) -> tuple[str, str, str | None]:
    """The summary to store; invalid_request naming the field that is not one of the lists
    (or a first name that is not one: digits, too long)."""
    fields: dict[str, str] = {}
    if topic not in TOPICS:
        fields["topic"] = "invalid"
    if step not in STEPS:
        fields["step"] = "invalid"
    name = (child_first_name or "").strip() or None
    if name is not None and (
        len(name) > MAX_FIRST_NAME or not all(c.isalpha() or c in " -'" for c in name)
    ):
        fields["child_first_name"] = "invalid"
    if fields:
        raise RegistrationError("invalid_request", fields=fields)
    return topic, step, name
