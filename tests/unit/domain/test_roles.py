"""Who among the city's staff may do what (backend/domain/roles.py)."""

from __future__ import annotations

import pytest

from backend.domain.roles import (
    Action,
    Role,
    StaffRefusal,
    cancel_action,
    may,
    may_read_roster,
    may_see_child,
    require,
)


def test_the_role_matrix() -> None:
    help_desk, coordinator, animator = Role.HELP_DESK, Role.COORDINATOR, Role.ANIMATOR
    for action in (Action.READ_FAMILY, Action.APPROVE, Action.CANCEL_UNPAID, Action.LIVE_VIEW):
        assert may(help_desk, action) and may(coordinator, action) and not may(animator, action)
    for action in (Action.CANCEL_PAID, Action.CAPACITY, Action.PAYMENT_MODE, Action.RUN_JOBS,
                   Action.READ_AUDIT, Action.EXPORT, Action.DELETE):
        assert may(coordinator, action) and not may(help_desk, action)
        assert not may(animator, action)
    assert may(animator, Action.READ_ROSTER)
    assert not may(help_desk, Action.READ_ROSTER) and not may(coordinator, Action.READ_ROSTER)
    assert not may("admin", Action.READ_FAMILY) and not may("", Action.SELF)


def test_require_raises_a_staff_code() -> None:
    require("coordinator", Action.DELETE)
    with pytest.raises(StaffRefusal) as refused:
        require("help_desk", Action.DELETE)
    assert refused.value.code == "staff_forbidden" and refused.value.http_status == 403
    with pytest.raises(ValueError):
        StaffRefusal("unauthorized")  # a parent's code is not a staff code


def test_an_animator_sees_a_child_only_through_an_assigned_group() -> None:
    assert may_see_child("animator", {3, 7}, {7})
    assert not may_see_child("animator", {3}, {4, 5})
    assert not may_see_child("animator", set(), {4})
    assert not may_see_child("coordinator", {4}, {4})  # nobody else reads health records
    assert may_read_roster("animator", (3, 7), 7) and not may_read_roster("animator", (3,), 7)
    assert not may_read_roster("help_desk", (7,), 7)


def test_cancelling_a_paid_registration_is_a_money_action() -> None:
    assert cancel_action(True) == Action.CANCEL_PAID
    assert cancel_action(False) == Action.CANCEL_UNPAID
