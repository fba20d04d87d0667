"""Former home of the tracker readers and the question asker, now in reading.py and asking.py.

Kept as a re-export so that the modules importing these names keep working unchanged.
"""

from .asking import (  # noqa: F401
    AskAction,
    backend_trouble,
    buttons,
    repair_events,
    yes_no_buttons,
)
from .turns import (  # noqa: F401
    INTERRUPTIONS,
    activating,
    is_interruption,
    latest_intent,
    latest_text,
    new_user_turn,
)
