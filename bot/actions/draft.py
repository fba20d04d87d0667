"""The registration draft: what the parent has chosen so far, and the step it is at.

Slot values: reg_child [child ids]; reg_program program id; reg_group {child id: group id};
reg_weeks [week numbers]; reg_options {code: [weeks] | None for every week}; reg_tshirt
{child id: size} or "-"; reg_waitlist "yes" | "no" | "-"; reg_scratch keeps what is said
before it can be used (site, level, level per child, sizes, options already answered).

The step is the first fact still missing, in STEPS order: `next_step` is the only place
that decides what the registration asks next.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet

STEPS = (
    "reg_child",
    "reg_program",
    "reg_group",
    "reg_weeks",
    "reg_options",
    "reg_tshirt",
    "reg_waitlist",
)
SLOTS = (*STEPS, "reg_scratch")


@dataclass
class State:
    child: list[int] | None = None
    program: int | None = None
    group: dict[str, int] | None = None
    weeks: list[int] | None = None
    options: dict[str, list[int] | None] | None = None
    tshirt: Any = None
    waitlist: str | None = None
    scratch: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_tracker(cls, tracker: Tracker) -> State:
        values = [copy.deepcopy(tracker.get_slot(s)) for s in SLOTS]
        return cls(*values[:7], scratch=values[7] or {})

    def as_slots(self) -> dict[str, Any]:
        values = (
            self.child,
            self.program,
            self.group,
            self.weeks,
            self.options,
            self.tshirt,
            self.waitlist,
            self.scratch,
        )
        return dict(zip(SLOTS, values, strict=True))

    @property
    def started(self) -> bool:
        return any(v is not None for v in self.as_slots().values() if v != {})


def next_step(state: State) -> str | None:
    """The step the registration is at: the first missing fact; None when the draft is complete."""
    slots = state.as_slots()
    return next((s for s in STEPS if slots[s] is None), None)


Message = tuple[str, dict[str, Any]]


def clear_registration() -> list[EventType]:
    return [SlotSet(s, None) for s in SLOTS] + [
        SlotSet("pending_facts", None),
        SlotSet("repair_level", 0.0),
    ]
