"""The responses that end a turn: the question of a step, or a closing.

A turn's last message is one of these. The registration's step questions are the
`utter_ask_*` responses of its slots (at rung 1 and 2 of the repair ladder, `utter_reask_*`,
`utter_ask_numbered` and `utter_explain_*`), then the cart's next-step question; a closing
ends the conversation's current business (help line, stop, payment link).
"""

from __future__ import annotations

from .draft import STEPS

# the step question of each registration step, by slot (several when the step has variants)
REGISTRATION_QUESTIONS = {
    "reg_child": ("utter_ask_reg_child",),
    "reg_program": ("utter_ask_reg_program",),
    "reg_group": ("utter_ask_reg_group", "utter_ask_reg_group_site", "utter_ask_reg_group_level"),
    "reg_weeks": ("utter_ask_reg_weeks",),
    "reg_options": ("utter_ask_reg_options_garde", "utter_ask_reg_options_velo"),
    "reg_tshirt": ("utter_ask_reg_tshirt",),
    "reg_waitlist": ("utter_ask_reg_waitlist",),
}
assert set(REGISTRATION_QUESTIONS) == set(STEPS)

REPAIR_QUESTIONS = frozenset(
    {f"utter_reask_{s}" for s in STEPS}
    | {f"utter_explain_{s}" for s in STEPS}
    | {"utter_ask_numbered"}
)

NEXT_STEP_QUESTIONS = frozenset({"utter_ask_next_step", "utter_ask_next_step_again"})

CLOSINGS = frozenset(
    {
        "utter_released",
        "utter_stuck",
        "utter_released_closed",
        "utter_stuck_closed",
        "utter_stopped",
        "utter_checkout_link",
        "utter_checkout_deferred",
    }
)


def is_step_question(response: str) -> bool:
    """A response that asks a step's question: the registration's above, and by the shared
    naming rule every other form's `utter_ask_*` / `utter_reask_*` / `utter_explain_*`."""
    registration = {r for names in REGISTRATION_QUESTIONS.values() for r in names}
    return (
        response in registration
        or response in REPAIR_QUESTIONS
        or response in NEXT_STEP_QUESTIONS
        or response.startswith(("utter_ask_", "utter_reask_", "utter_explain_"))
    )


def ends_a_turn(response: str) -> bool:
    return is_step_question(response) or response in CLOSINGS
