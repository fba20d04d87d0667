"""Replacing a week in the cart, and the overlap rule, on SQLite and PostgreSQL: what the parent
is told, and the places the database counts afterwards."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.adapters.clock import ManualClock
from backend.db.engine import transaction
from backend.db.models import CapacityPool, Group, Line, LineStatus, Program, SessionOption
from backend.db.models import Session as ActivitySession
from backend.domain.errors import RegistrationError
from backend.services import cart, cart_replace, waitlist
from tests.integration.core.helpers import Harness, make_harness

ERABLES, RIVIERE = "Parc des Érables", "Parc de la Rivière"
FULL = (ERABLES, "7-8 ans", 1)  # the demo's full week (20 confirmed children)


@pytest.fixture
def h(session_factory: sessionmaker[Session], clock: ManualClock) -> Harness:
    return make_harness(session_factory, clock)


def _julie(h: Harness) -> tuple[int, int, int]:
    return h.family_id("100001"), h.child_id("Léa", "Tremblay"), h.child_id("Thomas", "Tremblay")


def _add(h: Harness, fid: int, cid: int, sessions: list[int], **kw: Any) -> dict[str, Any]:
    return h.run(
        lambda db: cart.add_lines(db, fid, child_id=cid, session_ids=sessions, **kw, **h.deps)
    )


def _held_line(h: Harness, fid: int, cid: int, session_id: int, **kw: Any) -> int:
    result = _add(h, fid, cid, [session_id], **kw)["results"][0]
    assert result["outcome"] == "held", result
    return int(result["line_id"])


def _replace(h: Harness, fid: int, line_id: int, session_id: int, **kw: Any) -> dict[str, Any]:
    return h.run(
        lambda db: cart_replace.replace_line(
            db, fid, line_id, session_id=session_id, **kw, **h.deps
        )
    )


def _refused(h: Harness, fn: Any) -> RegistrationError:
    with pytest.raises(RegistrationError) as info:
        h.run(fn)
    return info.value


def _taken(h: Harness, session_id: int) -> int:
    return int(
        h.run(
            lambda db: db.scalar(
                select(CapacityPool.taken)
                .join(ActivitySession, ActivitySession.pool_id == CapacityPool.id)
                .where(ActivitySession.id == session_id)
            )
        )
    )


def _option_taken(h: Harness, session_id: int, code: str) -> int:
    return int(
        h.run(
            lambda db: db.scalar(
                select(CapacityPool.taken)
                .join(SessionOption, SessionOption.pool_id == CapacityPool.id)
                .where(SessionOption.session_id == session_id, SessionOption.code == code)
            )
        )
    )


def _status(h: Harness, line_id: int) -> LineStatus:
    return h.run(lambda db: db.get(Line, line_id).status)  # type: ignore[union-attr]


def _swim(h: Harness, level: int) -> int:
    return int(
        h.run(
            lambda db: db.scalar(
                select(ActivitySession.id)
                .join(Group, Group.id == ActivitySession.group_id)
                .join(Program, Program.id == Group.program_id)
                .where(Program.name == "Natation Junior", Group.level == level)
            )
        )
    )


def _soccer(h: Harness, label: str) -> int:
    return int(
        h.run(
            lambda db: db.scalar(
                select(ActivitySession.id)
                .join(Group, Group.id == ActivitySession.group_id)
                .where(Group.label == label)
            )
        )
    )


# ------------------------------------------------------------------------------ replace


def test_replace_when_free_holds_the_new_week_and_gives_the_old_place_back(h: Harness) -> None:
    fid, _lea, thomas = _julie(h)
    week2, week4 = h.camp_session(ERABLES, "7-8 ans", 2), h.camp_session(ERABLES, "7-8 ans", 4)
    old = _held_line(h, fid, thomas, week2, options=["garde"])
    assert (_taken(h, week2), _option_taken(h, week2, "garde")) == (1, 1)

    out = _replace(h, fid, old, week4)

    assert out["outcome"] == "held" and out["replaced_line_id"] == old
    assert out["options_dropped"] == []
    assert _status(h, old) == LineStatus.CANCELLED
    assert _status(h, out["line_id"]) == LineStatus.HELD
    # Both sessions' counters moved in the same transaction, options included.
    assert (_taken(h, week2), _option_taken(h, week2, "garde")) == (0, 0)
    assert (_taken(h, week4), _option_taken(h, week4, "garde")) == (1, 1)
    shown = {(ln["session_id"], ln["status"]) for ln in out["cart"]["lines"]}
    assert shown == {(week4, "held")}
    new_line = next(ln for ln in out["cart"]["lines"] if ln["id"] == out["line_id"])
    assert [o["code"] for o in new_line["options"]] == ["garde"]
    assert new_line["tshirt_size"] == "TP"  # Thomas's size on file, kept
    h.assert_capacity_exact()


def test_replace_into_another_program_drops_the_options_it_does_not_offer(h: Harness) -> None:
    fid, _lea, thomas = _julie(h)
    week2 = h.camp_session(ERABLES, "7-8 ans", 2)
    old = _held_line(h, fid, thomas, week2, options=["garde"])
    out = _replace(h, fid, old, _swim(h, 1))
    assert out["outcome"] == "held"
    assert out["options_dropped"] == ["garde"]
    new_line = next(ln for ln in out["cart"]["lines"] if ln["id"] == out["line_id"])
    assert new_line["options"] == [] and new_line["tshirt_size"] is None
    assert _option_taken(h, week2, "garde") == 0
    h.assert_capacity_exact()


def test_replace_into_a_full_week_changes_nothing(h: Harness) -> None:
    fid, _lea, thomas = _julie(h)
    week2, full = h.camp_session(ERABLES, "7-8 ans", 2), h.camp_session(*FULL)
    old = _held_line(h, fid, thomas, week2)
    before = (_taken(h, week2), _taken(h, full))

    error = _refused(
        h,
        lambda db: cart_replace.replace_line(db, fid, old, session_id=full, **h.deps),
    )

    assert error.code == "session_full" and error.extra["session_id"] == full
    assert _status(h, old) == LineStatus.HELD
    assert (_taken(h, week2), _taken(h, full)) == before
    view = h.run(lambda db: cart.cart_view(db, fid, clock=h.clock, settings=h.settings))
    assert [(ln["id"], ln["status"]) for ln in view["lines"]] == [(old, "held")]
    h.assert_capacity_exact()


def test_replace_into_a_full_week_with_the_waitlist_keeps_the_old_week(h: Harness) -> None:
    fid, _lea, thomas = _julie(h)
    week2, full = h.camp_session(ERABLES, "7-8 ans", 2), h.camp_session(*FULL)
    old = _held_line(h, fid, thomas, week2)

    out = _replace(h, fid, old, full, join_waitlist=True)

    assert out["outcome"] == "waitlisted" and out["waitlist_position"] == 1
    assert _status(h, old) == LineStatus.HELD
    assert _status(h, out["line_id"]) == LineStatus.WAITLISTED
    assert _taken(h, week2) == 1 and _taken(h, full) == 20
    statuses = sorted((ln["session_id"], ln["status"]) for ln in out["cart"]["lines"])
    assert statuses == sorted([(week2, "held"), (full, "waitlisted")])
    h.assert_capacity_exact()


def test_the_place_a_replacement_releases_is_offered_to_the_waitlist(h: Harness) -> None:
    week3, week5 = h.camp_session(ERABLES, "7-8 ans", 3), h.camp_session(ERABLES, "7-8 ans", 5)
    people = h.make_families(20)
    lines = [_held_line(h, f, c, week3) for f, c in people]
    julie, _lea, thomas = _julie(h)
    waiting = _add(h, julie, thomas, [week3], join_waitlist=True)["results"][0]
    assert waiting["outcome"] == "waitlisted" and waiting["waitlist_position"] == 1

    out = _replace(h, people[0][0], lines[0], week5)

    assert out["outcome"] == "held"
    assert _status(h, lines[0]) == LineStatus.CANCELLED
    assert _status(h, waiting["line_id"]) == LineStatus.OFFERED
    assert _taken(h, week3) == 20 and _taken(h, week5) == 1
    offers = h.notifications("waitlist_offer", julie)
    assert sorted(n.channel for n in offers) == ["email", "sms"]  # Julie has both on file
    h.assert_capacity_exact()


def test_replace_refuses_the_same_session_and_another_familys_line(h: Harness) -> None:
    fid, _lea, thomas = _julie(h)
    week2 = h.camp_session(ERABLES, "7-8 ans", 2)
    old = _held_line(h, fid, thomas, week2)
    same = _refused(
        h, lambda db: cart_replace.replace_line(db, fid, old, session_id=week2, **h.deps)
    )
    assert same.code == "already_registered"
    marc, week3 = h.family_id("100002"), h.camp_session(ERABLES, "7-8 ans", 3)
    other = _refused(
        h, lambda db: cart_replace.replace_line(db, marc, old, session_id=week3, **h.deps)
    )
    assert other.code == "not_found"
    assert _status(h, old) == LineStatus.HELD
    h.assert_capacity_exact()


def test_replace_checks_the_new_groups_age(h: Harness) -> None:
    fid, _lea, thomas = _julie(h)
    old = _held_line(h, fid, thomas, h.camp_session(ERABLES, "7-8 ans", 2))
    older_group = h.camp_session(ERABLES, "9-12 ans", 2)
    error = _refused(
        h, lambda db: cart_replace.replace_line(db, fid, old, session_id=older_group, **h.deps)
    )
    assert error.code == "not_eligible" and error.extra["age"] == 7
    assert _status(h, old) == LineStatus.HELD


def test_parents_racing_for_the_last_place_by_replacing_never_overbook(
    session_factory: sessionmaker[Session], clock: ManualClock
) -> None:
    h = make_harness(session_factory, clock)
    target, start = h.camp_session(ERABLES, "7-8 ans", 6), h.camp_session(ERABLES, "7-8 ans", 2)
    fillers = h.make_families(19)
    for f, c in fillers:
        _held_line(h, f, c, target)
    racers = h.make_families(6, first=19)
    old = {f: _held_line(h, f, c, start) for f, c in racers}
    barrier = threading.Barrier(len(racers))
    outcomes: dict[int, str] = {}
    errors: list[BaseException] = []
    guard = threading.Lock()

    def race(family_id: int) -> None:
        try:
            barrier.wait(timeout=60)
            with transaction(session_factory) as db:
                out = cart_replace.replace_line(
                    db, family_id, old[family_id], session_id=target, with_cart=False, **h.deps
                )
            result = str(out["outcome"])
        except RegistrationError as refusal:
            result = refusal.code
        except BaseException as exc:  # asserted on below
            with guard:
                errors.append(exc)
            return
        with guard:
            outcomes[family_id] = result

    threads = [threading.Thread(target=race, args=(f,)) for f, _c in racers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert errors == []
    assert sorted(outcomes.values()) == ["held"] + ["session_full"] * 5
    winner = next(f for f, o in outcomes.items() if o == "held")
    assert _taken(h, target) == 20
    assert _taken(h, start) == 5  # the winner's old place came back, the others kept theirs
    for f, line_id in old.items():
        expected = LineStatus.CANCELLED if f == winner else LineStatus.HELD
        assert _status(h, line_id) == expected
    h.assert_within_capacity()
    h.assert_capacity_exact()


# ------------------------------------------------------------------------------ overlaps


def test_two_swimming_levels_on_the_same_saturdays_are_refused(h: Harness) -> None:
    fid, lea, _thomas = _julie(h)
    level2, level3 = _held_line(h, fid, lea, _swim(h, 2)), _swim(h, 3)
    error = _refused(
        h, lambda db: cart.add_lines(db, fid, child_id=lea, session_ids=[level3], **h.deps)
    )
    assert error.code == "overlapping_session"
    assert error.extra["conflict_line_id"] == level2
    assert error.extra["session_id"] == level3
    assert (error.extra["program"], error.extra["group"]) == ("Natation Junior", "Niveau 2")
    assert _taken(h, level3) == 0
    h.assert_capacity_exact()


def test_the_same_camp_week_in_two_parks_is_refused(h: Harness) -> None:
    fid, lea, _thomas = _julie(h)
    erables = _held_line(h, fid, lea, h.camp_session(ERABLES, "9-12 ans", 3))
    riviere = h.camp_session(RIVIERE, "9-12 ans", 3)
    for join in (False, True):  # places left: with the waitlist asked, it would be held
        error = _refused(
            h,
            lambda db, join=join: cart.add_lines(
                db, fid, child_id=lea, session_ids=[riviere], join_waitlist=join, **h.deps
            ),
        )
        assert error.code == "overlapping_session"
        assert error.extra["conflict_line_id"] == erables
        assert (error.extra["site"], error.extra["week"]) == (ERABLES, 3)
    assert _taken(h, riviere) == 0
    h.assert_capacity_exact()


def test_sessions_that_meet_at_other_times_are_allowed_together(h: Harness) -> None:
    fid, lea, _thomas = _julie(h)
    _held_line(h, fid, lea, h.camp_session(ERABLES, "9-12 ans", 1))  # weekdays, 9 h to 16 h
    _held_line(h, fid, lea, h.camp_session(ERABLES, "9-12 ans", 2))  # the next week
    _held_line(h, fid, lea, _soccer(h, "U10"))  # Tuesday evenings
    _held_line(h, fid, lea, _swim(h, 4))  # Saturday mornings
    h.assert_capacity_exact()


def test_a_waitlist_entry_may_overlap_a_held_line(h: Harness) -> None:
    fid, _lea, thomas = _julie(h)
    riviere = _held_line(h, fid, thomas, h.camp_session(RIVIERE, "7-8 ans", 1))
    full = h.camp_session(*FULL)
    out = _add(h, fid, thomas, [full], join_waitlist=True)["results"][0]
    assert out["outcome"] == "waitlisted"
    assert _status(h, riviere) == LineStatus.HELD
    # Without the waitlist, the week could never be held: the overlap is what the parent hears.
    error = _refused(
        h, lambda db: cart.add_lines(db, fid, child_id=thomas, session_ids=[full], **h.deps)
    )
    assert error.code in ("overlapping_session", "already_registered")
    h.assert_capacity_exact()


def test_replace_refuses_a_week_the_child_already_holds_elsewhere(h: Harness) -> None:
    fid, _lea, thomas = _julie(h)
    week2 = _held_line(h, fid, thomas, h.camp_session(ERABLES, "7-8 ans", 2))
    riviere3 = _held_line(h, fid, thomas, h.camp_session(RIVIERE, "7-8 ans", 3))
    erables3 = h.camp_session(ERABLES, "7-8 ans", 3)
    error = _refused(
        h,
        lambda db: cart_replace.replace_line(db, fid, week2, session_id=erables3, **h.deps),
    )
    assert error.code == "overlapping_session"
    assert error.extra["conflict_line_id"] == riviere3
    assert _status(h, week2) == LineStatus.HELD and _taken(h, erables3) == 0
    # Moving the Rivière week to the Érables park is a replacement of that very line: allowed.
    out = _replace(h, fid, riviere3, erables3)
    assert out["outcome"] == "held"
    h.assert_capacity_exact()


def test_an_expired_hold_does_not_block(h: Harness) -> None:
    fid, _lea, thomas = _julie(h)
    old = _held_line(h, fid, thomas, h.camp_session(ERABLES, "7-8 ans", 2))
    h.clock.advance(timedelta(minutes=h.settings.hold_minutes + 1))
    _held_line(h, fid, thomas, h.camp_session(RIVIERE, "7-8 ans", 2))
    # The expired hold is given back by the next pass over its own session.
    h.run(lambda db: waitlist.expire_and_cascade(db, **h.deps))
    assert _status(h, old) == LineStatus.RELEASED
    h.assert_capacity_exact()


def test_two_overlapping_sessions_in_one_request_are_refused(h: Harness) -> None:
    fid, lea, _thomas = _julie(h)
    both = [h.camp_session(ERABLES, "9-12 ans", 4), h.camp_session(RIVIERE, "9-12 ans", 4)]
    error = _refused(
        h, lambda db: cart.add_lines(db, fid, child_id=lea, session_ids=both, **h.deps)
    )
    assert error.code == "invalid_request"
    assert error.extra["fields"] == {"session_ids": "overlapping"}


def test_replacing_into_the_waitlist_of_an_overlapping_week_is_allowed(h: Harness) -> None:
    fid, _lea, thomas = _julie(h)
    riviere1 = _held_line(h, fid, thomas, h.camp_session(RIVIERE, "7-8 ans", 1))
    week2, full = h.camp_session(ERABLES, "7-8 ans", 2), h.camp_session(*FULL)
    old = _held_line(h, fid, thomas, week2)
    error = _refused(
        h, lambda db: cart_replace.replace_line(db, fid, old, session_id=full, **h.deps)
    )
    assert error.code == "overlapping_session" and error.extra["conflict_line_id"] == riviere1
    out = _replace(h, fid, old, full, join_waitlist=True)
    assert out["outcome"] == "waitlisted"
    assert _status(h, old) == LineStatus.HELD and _status(h, riviere1) == LineStatus.HELD
    h.assert_capacity_exact()
