"""The reminder a week before camp when a child's fiche santé is missing or incomplete.

Run daily by the jobs (`backend.jobs`): for each child with a confirmed day-camp week starting
within `HEALTH_REMINDER_DAYS` (city date), whose fiche is not complete, one outbox message
`health_record_reminder` (texto and courriel, whichever the family has) with a fresh signed
link, once per child and starting date (`health_reminder` rows). The message names the child
and the week; it never carries a health detail.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.adapters.clock import Clock, local_date
from backend.db.models import (
    Category,
    Group,
    HealthReminder,
    Line,
    LineStatus,
    Person,
    Program,
)
from backend.db.models import Session as ActivitySession
from backend.domain.health_form import reminder_due
from backend.services import health_links, outbox
from backend.services.health_records import is_complete_record
from backend.settings import Settings


def _upcoming(db: Session, today: date, days: int) -> dict[int, tuple[Person, date, str]]:
    """Per child: the earliest confirmed day-camp week the reminder is due for."""
    rows = db.execute(
        select(Person, ActivitySession.starts_on, Program.name)
        .join(Line, Line.person_id == Person.id)
        .join(ActivitySession, ActivitySession.id == Line.session_id)
        .join(Group, Group.id == ActivitySession.group_id)
        .join(Program, Program.id == Group.program_id)
        .where(
            Line.status == LineStatus.CONFIRMED,
            Program.category == Category.DAY_CAMP,
            # A coarse window for the index; the rule itself is reminder_due below.
            ActivitySession.starts_on > today,
            ActivitySession.starts_on <= today + timedelta(days=days),
        )
        .order_by(Person.id, ActivitySession.starts_on)
    ).all()
    due: dict[int, tuple[Person, date, str]] = {}
    for person, starts_on, program in rows:
        if person.id not in due and reminder_due(starts_on, today, days):
            due[person.id] = (person, starts_on, program)
    return due


def send_due(db: Session, *, clock: Clock, settings: Settings) -> int:
    """Enqueue the reminders due today; returns how many children were reminded."""
    today = local_date(clock)
    sent = 0
    for person, starts_on, program in _upcoming(db, today, settings.health_reminder_days).values():
        if is_complete_record(person.health):
            continue
        if db.get(HealthReminder, (person.id, starts_on)) is not None:
            continue
        token, expires_at = health_links.mint(person, clock=clock, settings=settings)
        outbox.enqueue(
            db,
            clock=clock,
            family=person.family,
            kind="health_record_reminder",
            params={
                "child": person.first_name,
                "program": program,
                "starts_on": starts_on.isoformat(),
                "url": health_links.url(settings, token),
                "expires_at": expires_at.isoformat(),
            },
        )
        db.add(HealthReminder(person_id=person.id, starts_on=starts_on, sent_at=clock.now()))
        sent += 1
    db.flush()
    return sent
