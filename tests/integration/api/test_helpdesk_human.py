"""A human: the help desk's line and hours, callback requests listed and closed by staff; a
new family file opened by chat after a one-time code, pending until staff approve it."""

from __future__ import annotations

from datetime import datetime

from api_harness import Backend, last_code
from sqlalchemy import text

from backend.adapters.clock import from_local
from backend.db.engine import make_engine

CALLBACKS = "/api/helpdesk/callbacks"


def _rows(backend: Backend, sql: str, **params: object) -> list[tuple[object, ...]]:
    engine = make_engine(backend.settings.database_url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


async def test_the_line_is_open_by_day_and_names_its_next_opening_at_night(
    backend: Backend,
) -> None:
    # Tuesday 20 April 2027, 10:00 city time: a person answers.
    backend.clock.set(from_local(datetime(2027, 4, 20, 10, 0)))
    r = await backend.call("GET", "/api/helpdesk")
    assert r.status_code == 200, r.text
    assert r.json()["open"] is True and r.json()["phone"] == backend.settings.city_phone
    # 19:00 on registration night: closed until Wednesday 8:30 (12:30 UTC).
    backend.clock.set(from_local(datetime(2027, 4, 20, 19, 0)))
    r = await backend.call("GET", "/api/helpdesk")
    assert r.json()["open"] is False
    assert r.json()["next_opening_at"] == "2027-04-21T12:30:00"
    # Friday evening: Monday morning.
    backend.clock.set(from_local(datetime(2027, 4, 23, 17, 0)))
    r = await backend.call("GET", "/api/helpdesk")
    assert r.json()["next_opening_at"] == "2027-04-26T12:30:00"


async def test_a_callback_request_is_listed_for_the_help_desk_and_closed_once(
    backend: Backend,
) -> None:
    backend.clock.set(from_local(datetime(2027, 4, 20, 19, 0)))
    verified = await _identify(backend)
    r = await backend.call(
        "POST",
        CALLBACKS,
        token=verified,
        json={"topic": "payment", "step": "checkout", "child_first_name": "lea"},
    )
    assert r.status_code == 201, r.text
    made = r.json()
    # The file's phone, the child's name as the file spells it, the next opening.
    assert made["phone"] == "+14185550101" and made["child_first_name"] == "Léa"
    assert made["client_number"] == "100001" and made["expected_at"] == "2027-04-21T12:30:00"
    # Asked twice: one request to call back, with the newer summary.
    r = await backend.call(
        "POST", CALLBACKS, token=verified, json={"topic": "payment", "step": "payment"}
    )
    assert r.json()["id"] == made["id"]
    # A visitor gives the number to call.
    r = await backend.call(
        "POST", CALLBACKS, json={"topic": "account", "step": "signup", "phone": "819 555-0177"}
    )
    assert r.status_code == 201 and r.json()["phone"] == "+18195550177"

    desk = backend.staff_headers("help_desk")
    r = await backend.call("GET", "/api/staff/callbacks", auth=False, headers=desk)
    assert r.status_code == 200, r.text
    assert [(c["topic"], c["step"]) for c in r.json()] == [
        ("payment", "payment"),
        ("account", "signup"),
    ]
    r = await backend.call(
        "POST", f"/api/staff/callbacks/{made['id']}/close", auth=False, headers=desk
    )
    assert r.status_code == 200 and r.json()["status"] == "closed"
    r = await backend.call("GET", "/api/staff/callbacks", auth=False, headers=desk)
    assert [c["topic"] for c in r.json()] == ["account"]
    audit = _rows(
        backend, "SELECT action, target_id FROM audit_log WHERE action = 'callback_closed'"
    )
    assert audit == [("callback_closed", str(made["id"]))]


async def test_a_callback_summary_holds_no_free_text(backend: Backend) -> None:
    r = await backend.call(
        "POST",
        CALLBACKS,
        json={"topic": "mon enfant a une allergie", "step": "none", "phone": "819 555-0177"},
    )
    assert r.status_code == 422
    r = await backend.call(
        "POST", CALLBACKS, json={"topic": "allergie", "step": "none", "phone": "819 555-0177"}
    )
    assert r.status_code == 422 and "topic" in r.json()["error"]["fields"]
    r = await backend.call("POST", CALLBACKS, json={"topic": "other", "step": "none"})
    assert r.status_code == 422 and "phone" in r.json()["error"]["fields"]
    assert _rows(backend, "SELECT id FROM callback_request") == []


async def _identify(backend: Backend) -> str:
    from api_harness import identify

    return str((await identify(backend, "100001", "418-555-0101"))["family_token"])


async def _verified_new_phone(backend: Backend, phone: str) -> str:
    r = await backend.call("POST", "/api/signup/start", json={"phone": phone})
    assert r.status_code == 200, r.text
    challenge = r.json()["challenge_id"]
    r = await backend.call(
        "POST", "/api/signup/verify", json={"challenge_id": challenge, "code": "000000"}
    )
    assert r.status_code == 422 and r.json()["error"]["attempts_left"] == 4
    code = last_code(backend, "+18195550142")
    r = await backend.call(
        "POST", "/api/signup/verify", json={"challenge_id": challenge, "code": code}
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"existing": "none", "channel": "sms"}
    return str(challenge)


NEW_FILE = {
    "first_name": "Sophie",
    "last_name": "Gagnon",
    "address": "12, rue des Lilas, Val-Fleuri",
    "email": "sophie.gagnon@example.com",
    "children": [
        {"first_name": "Zoé", "birth_date": "2018-03-02"},
        {"first_name": "Félix", "birth_date": "2020-11-20"},
    ],
}


async def test_a_new_file_is_pending_until_staff_approve_and_the_parent_is_told(
    backend: Backend,
) -> None:
    challenge = await _verified_new_phone(backend, "819-555-0142")
    r = await backend.call(
        "POST", "/api/signup/family", json={**NEW_FILE, "challenge_id": challenge}
    )
    assert r.status_code == 201, r.text
    created = r.json()
    number = created["family"]["client_number"]
    assert len(number) == 6 and number.isdigit()
    assert created["family"]["status"] == "pending"
    assert [c["first_name"] for c in created["family"]["children"]] == ["Zoé", "Félix"]
    r = await backend.call("GET", "/api/family", token=created["family_token"])
    assert r.json()["status"] == "pending"
    assert _rows(
        backend, "SELECT phone, email, status FROM family WHERE client_number = :n", n=number
    ) == [("+18195550142", "sophie.gagnon@example.com", "pending")]
    # The same verification opens one file, not two.
    r = await backend.call(
        "POST", "/api/signup/family", json={**NEW_FILE, "challenge_id": challenge}
    )
    assert r.status_code == 403 and r.json()["error"]["code"] == "contact_not_verified"

    desk = backend.staff_headers("help_desk")
    r = await backend.call(
        "POST", f"/api/staff/families/{number}/approve", auth=False, headers=desk
    )
    assert r.status_code == 200 and r.json()["status"] == "approved"
    told = _rows(
        backend,
        "SELECT channel, recipient, body FROM notification WHERE kind = 'account_approved'",
    )
    assert {(channel, recipient) for channel, recipient, _ in told} == {
        ("sms", "+18195550142"),
        ("email", "sophie.gagnon@example.com"),
    }
    assert all(number in body and "approuvé" in body for _, _, body in told)


async def test_a_phone_already_on_a_file_opens_that_file_and_gives_its_number(
    backend: Backend,
) -> None:
    r = await backend.call("POST", "/api/signup/start", json={"phone": "418 555-0101"})
    challenge = r.json()["challenge_id"]
    code = last_code(backend, "+14185550101")
    r = await backend.call(
        "POST", "/api/signup/verify", json={"challenge_id": challenge, "code": code}
    )
    assert r.status_code == 200, r.text
    assert r.json()["existing"] == "one"
    assert r.json()["family"]["client_number"] == "100001"
    r = await backend.call("GET", "/api/family", token=r.json()["family_token"])
    assert r.json()["client_number"] == "100001"
    # And no second file can be made with it.
    r = await backend.call(
        "POST", "/api/signup/family", json={**NEW_FILE, "challenge_id": challenge}
    )
    assert r.status_code == 403
    assert _rows(backend, "SELECT count(*) FROM family WHERE phone = '+14185550101'") == [(1,)]


async def test_no_file_without_a_verified_contact(backend: Backend) -> None:
    r = await backend.call("POST", "/api/signup/start", json={"phone": "819-555-0142"})
    challenge = r.json()["challenge_id"]
    r = await backend.call(
        "POST", "/api/signup/family", json={**NEW_FILE, "challenge_id": challenge}
    )
    assert r.status_code == 403 and r.json()["error"]["code"] == "contact_not_verified"
    assert "vérifi" in r.json()["error"]["message"]
    r = await backend.call("POST", "/api/signup/start", json={})
    assert r.status_code == 422
    assert _rows(backend, "SELECT count(*) FROM family WHERE phone = '+18195550142'") == [(0,)]
