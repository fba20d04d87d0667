"""The fiche santé on the services, SQLite and PostgreSQL, at a set clock: the family's signed
link opens one child's form until it expires, a wrong answer saves nothing, the
health-insurance number is sealed at rest, only the animators of the child's group read the
fiche (each read audited, no health detail in the audit), and a reminder goes a week before
camp, once, when the fiche is missing."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from backend.adapters.clock import ManualClock, from_local
from backend.db.access import AuditEntry
from backend.db.models import HealthRecord, HealthReminder, Person
from backend.domain.errors import RegistrationError
from backend.jobs import run_due_jobs
from backend.services import family_data, health_links, health_records, health_reminders
from backend.services.audit import Actor
from backend.services.sealing_key import SealBroken, open_sealed
from tests.integration.core.helpers import Harness, make_harness
from tests.integration.core.test_core import add, deliver, do_checkout, pay

RIVIERE = "Parc de la Rivière"
GOOD = {
    "allergies": "Noix",
    "epipen": "oui",
    "medication": "",
    "conditions": "Asthme léger",
    "insurance_number": "trem 2004 0312",
    "insurance_expiry": "08/2029",
    "contact_name": "Julie Tremblay",
    "contact_relation": "Mère",
    "contact_phone": "418 555-0101",
    "second_name": "",
    "second_phone": "",
    "first_aid": "oui",
    "photos": "non",
    "leave_alone": "non",
}


@pytest.fixture
def h(session_factory: sessionmaker[Session], clock: ManualClock) -> Harness:
    return make_harness(session_factory, clock)


def _thomas(db: Session) -> Person:
    return db.scalars(select(Person).where(Person.first_name == "Thomas")).one()


def _token(h: Harness) -> str:
    return h.run(lambda db: health_links.mint(_thomas(db), clock=h.clock, settings=h.settings)[0])


def _save(h: Harness, token: str, fields: dict[str, str]) -> dict[str, str]:
    def save(db: Session) -> dict[str, str]:
        link = health_links.read(token, clock=h.clock, settings=h.settings)
        person = health_links.child_of_link(db, link)
        return health_records.save(db, person, fields, clock=h.clock, settings=h.settings)

    return h.run(save)


def _register_thomas_week_1(h: Harness) -> int:
    week = h.camp_session(RIVIERE, "7-8 ans", 1)
    add(h, "100001", ("Thomas", "Tremblay"), [week])
    order_id = do_checkout(h, "100001")["order_id"]
    assert deliver(h, pay(h, order_id))["outcome"] == "paid"
    return int(h.run(lambda db: db.get(Person, _thomas(db).id).id))


def link_expiry(body: str, h: Harness) -> datetime:
    token = body.split("/sante/")[1].split()[0]
    return health_links.read(token, clock=h.clock, settings=h.settings).expires_at


def _group_of(h: Harness, session_id: int) -> int:
    from backend.db.models import Session as ActivitySession

    return int(h.run(lambda db: db.get(ActivitySession, session_id).group_id))


def test_the_link_opens_the_childs_form_and_saves_a_complete_fiche_with_the_number_sealed(
    h: Harness,
) -> None:
    token = _token(h)
    before = h.run(lambda db: health_records.form_values(_thomas(db), h.settings))
    assert before["contact_name"] == "Julie Tremblay" and before["first_aid"] == ""
    assert h.run(lambda db: health_records.is_complete_record(_thomas(db).health)) is False

    assert _save(h, token, GOOD) == {}

    record = h.run(lambda db: health_records.record_dict(_thomas(db).health, h.settings))
    assert record is not None and record["complete"] is True
    assert record["insurance_number"] == "TREM20040312"
    assert record["insurance_expiry"] == "08/2029"
    assert record["emergency_contact_phone"] == "+14185550101"
    assert (record["epipen"], record["may_photograph"], record["may_leave_alone"]) == (
        True, False, False
    )
    # At rest the number is sealed: the column holds no digit of it in the clear.
    stored = h.run(
        lambda db: db.execute(
            text("SELECT insurance_sealed FROM health_record WHERE person_id = :p"),
            {"p": _thomas(db).id},
        ).scalar_one()
    )
    assert stored.startswith("v2.") and "TREM" not in stored and "20040312" not in stored
    with pytest.raises(SealBroken):
        open_sealed(stored, "another-key")
    # The family's page says a number is on file, never shows it.
    again = h.run(lambda db: health_records.form_values(_thomas(db), h.settings))
    assert again["insurance_on_file"] == "0312" and "TREM20040312" not in json.dumps(again)
    assert again["epipen"] == "oui" and again["photos"] == "non"
    # Left empty, the number on file stays.
    assert _save(h, token, {**GOOD, "insurance_number": "", "insurance_expiry": ""}) == {}
    kept = h.run(lambda db: health_records.record_dict(_thomas(db).health, h.settings))
    assert kept is not None and kept["insurance_number"] == "TREM20040312"


def test_wrong_answers_save_nothing_and_name_each_field(h: Harness) -> None:
    token = _token(h)
    before = h.run(lambda db: health_records.record_dict(_thomas(db).health, h.settings))
    problems = _save(
        h,
        token,
        {
            **GOOD,
            "contact_phone": "555-01",
            "insurance_number": "1234",
            "first_aid": "",
            "second_name": "Pierre Tremblay",
            "allergies": "x" * 1001,
        },
    )
    assert problems == {
        "contact_phone": "phone",
        "insurance_number": "insurance",
        "first_aid": "choose",
        "second_phone": "pair",
        "allergies": "too_long",
    }
    after = h.run(lambda db: health_records.record_dict(_thomas(db).health, h.settings))
    assert after == before


def test_a_forged_an_expired_or_a_moved_link_opens_nothing(h: Harness) -> None:
    token = _token(h)
    person_id = h.run(lambda db: _thomas(db).id)
    forged = token[:-1] + ("0" if token[-1] != "0" else "1")
    other_child = token.replace(f"h1.{person_id}.", f"h1.{person_id - 1}.", 1)
    for bad in (forged, other_child, "h1.1.1.1." + "a" * 40, "n'importe quoi"):
        with pytest.raises(RegistrationError) as refused:
            health_links.read(bad, clock=h.clock, settings=h.settings)
        assert refused.value.code == "health_link_invalid"
    h.clock.advance(timedelta(days=h.settings.health_link_days, seconds=1))
    with pytest.raises(RegistrationError) as expired:
        health_links.read(token, clock=h.clock, settings=h.settings)
    assert expired.value.code == "health_link_expired"


def test_only_the_animators_of_the_childs_group_read_the_fiche_and_each_read_is_audited(
    h: Harness,
) -> None:
    _save(h, _token(h), GOOD)
    person_id = _register_thomas_week_1(h)
    group = _group_of(h, h.camp_session(RIVIERE, "7-8 ans", 1))
    other = _group_of(h, h.camp_session(RIVIERE, "9-12 ans", 1))
    theirs = Actor(staff_id=None, username="anim", role="animator", via="api", groups=(group,))
    stranger = Actor(staff_id=None, username="anim2", role="animator", via="api", groups=(other,))
    for who in (
        stranger,
        Actor(staff_id=None, username="aide", role="help_desk", via="api"),
        Actor(staff_id=None, username="coordo", role="coordinator", via="api"),
    ):
        with pytest.raises(RegistrationError) as refused:
            h.run(lambda db, who=who: health_records.staff_read(
                db, person_id, actor=who, clock=h.clock, settings=h.settings))
        assert refused.value.code == "staff_forbidden"
    assert h.run(lambda db: db.scalar(select(func.count()).select_from(AuditEntry))) == 0

    view = h.run(lambda db: health_records.staff_read(
        db, person_id, actor=theirs, clock=h.clock, settings=h.settings))
    assert view["first_name"] == "Thomas"
    assert view["health"]["allergies"] == "Noix"
    assert view["health"]["insurance_number"] == "TREM20040312"
    (entry,) = h.run(lambda db: db.scalars(select(AuditEntry)).all())
    assert (entry.action, entry.actor, entry.target_id) == (
        "health_record_read", "anim", str(person_id)
    )
    assert entry.at == h.clock.now() and entry.family_id == h.family_id("100001")
    for secret in ("Noix", "Asthme", "TREM", "20040312", "+1418"):
        assert secret not in entry.detail


def test_a_reminder_goes_a_week_before_camp_once_and_only_for_a_missing_fiche(
    h: Harness,
) -> None:
    _register_thomas_week_1(h)  # week 1 starts Monday 28 June 2027; Thomas's fiche lacks
    lea_week = h.camp_session(RIVIERE, "9-12 ans", 1)  # the authorisations, Léa's is complete
    add(h, "100001", ("Léa", "Tremblay"), [lea_week])
    order_id = do_checkout(h, "100001")["order_id"]
    assert deliver(h, pay(h, order_id))["outcome"] == "paid"
    julie = h.family_id("100001")

    h.clock.set(from_local(datetime(2027, 6, 20, 9, 0)))  # 8 days before
    assert h.run(lambda db: health_reminders.send_due(db, clock=h.clock, settings=h.settings)) == 0
    assert h.notifications("health_record_reminder", julie) == []

    h.clock.set(from_local(datetime(2027, 6, 21, 9, 0)))  # 7 days before: through the jobs
    first = run_due_jobs(h.factory, **h.deps)["health_reminders"]
    # The demo's other families have children confirmed that week without a fiche, too.
    reminded = h.run(lambda db: set(db.scalars(select(HealthReminder.person_id)).all()))
    assert len(reminded) == first
    thomas_id = h.child_id("Thomas", "Tremblay")
    assert thomas_id in reminded and h.child_id("Léa", "Tremblay") not in reminded
    sent = h.notifications("health_record_reminder", julie)
    assert {n.channel.value for n in sent} == {"sms", "email"}
    texto = next(n for n in sent if n.channel.value == "sms")
    assert "Thomas" in texto.body and "28 juin 2027" in texto.body
    assert f"{h.settings.public_base_url}/sante/h1." in texto.body
    assert len(texto.body) <= 3 * 153  # at most 3 segments
    assert texto.expires_at == link_expiry(texto.body, h)  # lapses with its link
    for n in sent:
        assert "Léa" not in n.body and "Arachides" not in n.body and "EpiPen" not in n.body
    # The link in the message opens Thomas's form.
    link_token = texto.body.split("/sante/")[1].split()[0]
    link = health_links.read(link_token, clock=h.clock, settings=h.settings)
    assert h.run(lambda db: health_links.child_of_link(db, link).first_name) == "Thomas"

    # The next day's run repeats nothing.
    h.clock.advance(timedelta(days=1))
    assert run_due_jobs(h.factory, **h.deps)["health_reminders"] == 0
    assert len(h.notifications("health_record_reminder", julie)) == len(sent)
    assert h.run(lambda db: db.scalar(select(func.count()).select_from(HealthReminder))) == first


def test_the_export_holds_the_whole_fiche_and_a_deletion_leaves_no_fiche_nor_reminder(
    h: Harness,
) -> None:
    _register_thomas_week_1(h)
    h.clock.set(from_local(datetime(2027, 6, 22, 9, 0)))
    assert h.run(lambda db: health_reminders.send_due(db, clock=h.clock, settings=h.settings)) >= 1
    thomas_id = h.child_id("Thomas", "Tremblay")
    _save(h, _token(h), GOOD)
    coord = Actor(staff_id=None, username="coordo", role="coordinator", via="cli")
    exported = h.run(lambda db: family_data.export_family(
        db, "100001", clock=h.clock, actor=coord, settings=h.settings))
    thomas = next(m for m in exported["members"] if m["first_name"] == "Thomas")
    assert thomas["health"]["insurance_number"] == "TREM20040312"  # the data is the family's
    h.run(lambda db: family_data.delete_family(db, "100001", **h.deps, actor=coord, force=True))
    left = h.run(lambda db: set(db.scalars(select(HealthReminder.person_id)).all()))
    assert thomas_id not in left
    assert h.run(lambda db: db.get(HealthRecord, thomas_id)) is None
