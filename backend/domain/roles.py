"""Who among the city's staff may do what (docs/STAFF.md). Pure: no database, no HTTP.

Three roles. The help desk reads family files and orders and approves accounts; a coordinator
also touches money and capacity (cancels paid registrations, refunds, changes capacities and the
season's payment mode, runs the jobs), reads the audit log and answers Loi 25 requests; an
animator reads only the roster of the groups assigned to them, health records included, and
nothing else.
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from typing import Final

from backend.domain.errors import RegistrationError


class Role(enum.StrEnum):
    HELP_DESK = "help_desk"
    COORDINATOR = "coordinator"
    ANIMATOR = "animator"


class Action(enum.StrEnum):
    READ_FAMILY = "read_family"  # a family's file, cart and orders (no health data)
    APPROVE = "approve"
    CANCEL_UNPAID = "cancel_unpaid"  # a line still in a cart: nothing to refund
    CANCEL_PAID = "cancel_paid"  # a confirmed registration: refunds
    CAPACITY = "capacity"
    PAYMENT_MODE = "payment_mode"
    RUN_JOBS = "run_jobs"
    READ_AUDIT = "read_audit"
    EXPORT = "export"
    DELETE = "delete"
    READ_ROSTER = "read_roster"  # children of a group, health records included
    SELF = "self"  # one's own account: who am I, log out
    RUSH = "rush"  # open, pause, close a registration-night waiting room; its rate and cap
    CALLBACKS = "callbacks"  # list and close parents' callback requests
    LIVE_VIEW = "live_view"  # registration night's figures: places, waitlists, line, payments


_HELP_DESK: Final = frozenset(
    {
        Action.READ_FAMILY,
        Action.APPROVE,
        Action.CANCEL_UNPAID,
        Action.CALLBACKS,
        Action.LIVE_VIEW,
        Action.SELF,
    }
)
_COORDINATOR: Final = _HELP_DESK | {
    Action.CANCEL_PAID,
    Action.CAPACITY,
    Action.PAYMENT_MODE,
    Action.RUN_JOBS,
    Action.READ_AUDIT,
    Action.EXPORT,
    Action.DELETE,
    Action.RUSH,
}
_ANIMATOR: Final = frozenset({Action.READ_ROSTER, Action.SELF})

PERMISSIONS: Final[dict[Role, frozenset[Action]]] = {
    Role.HELP_DESK: _HELP_DESK,
    Role.COORDINATOR: _COORDINATOR,
    Role.ANIMATOR: _ANIMATOR,
}

# Staff refusals: code -> HTTP status. Distinct from the parents' codes so that the bot never
# tells a parent to "confirm their identity" because a staff credential was wrong, and the
# other way round.
STAFF_HTTP_STATUS: Final[dict[str, int]] = {
    "staff_unauthorized": 401,  # no staff credential, or an expired or revoked one
    "staff_login_failed": 401,  # wrong username or password (the same for both)
    "staff_forbidden": 403,  # the role does not allow this action
    "staff_csrf": 403,  # a cookie-authenticated change without its session's CSRF token
    "family_has_active_lines": 409,  # Loi 25 deletion refused while a place is held or paid
    "staff_username_taken": 409,
}


class StaffRefusal(RegistrationError):
    """A staff refusal with its own stable code (STAFF_HTTP_STATUS); rendered like the others."""

    def __init__(self, code: str, /, **extra: object) -> None:
        if code not in STAFF_HTTP_STATUS:
            raise ValueError(f"unknown staff error code {code!r}")
        Exception.__init__(self, code)
        self.code = code
        self.extra = dict(extra)

    @property
    def http_status(self) -> int:
        return STAFF_HTTP_STATUS[self.code]


def parse_role(value: str) -> Role:
    """The role named `value`; ValueError for anything else."""
    return Role(value)


def may(role: Role | str, action: Action) -> bool:
    try:
        known = Role(role)
    except ValueError:
        return False
    return action in PERMISSIONS[known]


def require(role: Role | str, action: Action) -> None:
    """Raises staff_forbidden unless `role` may do `action`."""
    if not may(role, action):
        raise StaffRefusal("staff_forbidden")


def may_see_child(
    role: Role | str, assigned_groups: Collection[int], child_groups: Collection[int]
) -> bool:
    """An animator sees a child (and their health record) only when the child is registered
    in one of the groups assigned to them. Nobody else sees health records through staff
    routes: the help desk and coordinators see files without them."""
    if not may(role, Action.READ_ROSTER):
        return False
    return bool(set(assigned_groups) & set(child_groups))


def may_read_roster(role: Role | str, assigned_groups: Collection[int], group_id: int) -> bool:
    return may(role, Action.READ_ROSTER) and group_id in set(assigned_groups)


def cancel_action(line_was_confirmed: bool) -> Action:
    """Cancelling a confirmed registration moves money back; anything else does not."""
    return Action.CANCEL_PAID if line_was_confirmed else Action.CANCEL_UNPAID
