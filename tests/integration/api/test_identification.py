"""Identification by one-time code, by the SMS sender's number and by the widget token."""

from __future__ import annotations

from datetime import timedelta

from api_harness import Backend, identify, last_code

from backend.services.widget_token import mint_widget_token

START = "/api/identify/start"
VERIFY = "/api/identify/verify"
RESEND = "/api/identify/resend"


async def _start(backend: Backend, client: str, phone: str) -> dict[str, str]:
    r = await backend.call("POST", START, json={"client_number": client, "phone": phone})
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_code_flow_gives_a_family_token(backend: Backend) -> None:
    challenge = await _start(backend, "100001", "(418) 555-0101")
    assert list(challenge) == ["challenge_id"]
    code = last_code(backend, "+14185550101")
    r = await backend.call(
        "POST", VERIFY, json={"challenge_id": challenge["challenge_id"], "code": code}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["family_token"]) == 32
    assert body["family"]["client_number"] == "100001"
    assert [c["first_name"] for c in body["family"]["children"]] == ["Léa", "Thomas"]

    r = await backend.call("GET", "/api/family", token=body["family_token"])
    assert r.status_code == 200 and r.json()["client_number"] == "100001"
    # A code is single use.
    r = await backend.call(
        "POST", VERIFY, json={"challenge_id": challenge["challenge_id"], "code": code}
    )
    assert r.status_code == 410 and r.json()["error"]["code"] == "code_expired"


async def test_answers_do_not_reveal_whether_the_file_exists(backend: Backend) -> None:
    real = await _start(backend, "100001", "418-555-0101")
    unknown = await _start(backend, "999999", "418-555-0101")
    wrong_phone = await _start(backend, "100002", "418-555-0101")
    for answer in (real, unknown, wrong_phone):
        assert list(answer) == ["challenge_id"]
    # Nothing was sent for the two that did not match: only Julie's code is in the outbox.
    r = await backend.call(
        "POST", VERIFY, json={"challenge_id": unknown["challenge_id"], "code": "000000"}
    )
    assert r.status_code == 422
    assert r.json()["error"] == {
        "code": "code_invalid",
        "message": "Ce code ne correspond pas à celui envoyé. Il vous reste 4 essais.",
        "attempts_left": 4,
    }


async def test_five_wrong_codes_lock_the_challenge(backend: Backend) -> None:
    challenge = await _start(backend, "100001", "4185550101")
    good = last_code(backend, "+14185550101")
    wrong = "000000" if good != "000000" else "111111"
    lefts = []
    for _ in range(4):
        r = await backend.call(
            "POST", VERIFY, json={"challenge_id": challenge["challenge_id"], "code": wrong}
        )
        assert r.status_code == 422
        lefts.append(r.json()["error"]["attempts_left"])
    assert lefts == [4, 3, 2, 1]
    r = await backend.call(
        "POST", VERIFY, json={"challenge_id": challenge["challenge_id"], "code": wrong}
    )
    assert r.status_code == 423 and r.json()["error"]["code"] == "challenge_locked"
    assert "418 555-0199" in r.json()["error"]["message"]
    # Even the right code is refused now.
    r = await backend.call(
        "POST", VERIFY, json={"challenge_id": challenge["challenge_id"], "code": good}
    )
    assert r.status_code == 423


async def test_code_expires_after_ten_minutes(backend: Backend) -> None:
    challenge = await _start(backend, "100001", "418-555-0101")
    code = last_code(backend, "+14185550101")
    backend.clock.advance(timedelta(minutes=10, seconds=1))
    r = await backend.call(
        "POST", VERIFY, json={"challenge_id": challenge["challenge_id"], "code": code}
    )
    assert r.status_code == 410 and r.json()["error"]["code"] == "code_expired"
    assert "nouveau" in r.json()["error"]["message"]


async def test_resend_three_times_then_limit(backend: Backend) -> None:
    challenge = await _start(backend, "100001", "418-555-0101")
    first = last_code(backend, "+14185550101")
    for _ in range(3):
        r = await backend.call("POST", RESEND, json={"challenge_id": challenge["challenge_id"]})
        assert r.status_code == 200 and r.json() == {"challenge_id": challenge["challenge_id"]}
    r = await backend.call("POST", RESEND, json={"challenge_id": challenge["challenge_id"]})
    assert r.status_code == 429 and r.json()["error"]["code"] == "resend_limit"
    latest = last_code(backend, "+14185550101")
    if latest != first:
        r = await backend.call(
            "POST", VERIFY, json={"challenge_id": challenge["challenge_id"], "code": first}
        )
        assert r.status_code == 422
    r = await backend.call(
        "POST", VERIFY, json={"challenge_id": challenge["challenge_id"], "code": latest}
    )
    assert r.status_code == 200


async def test_phone_that_cannot_text_gets_the_code_by_courriel(backend: Backend) -> None:
    challenge = await _start(backend, "100004", "581-555-0104")
    assert list(challenge) == ["challenge_id"]
    code = last_code(backend, "karim@example.com")
    r = await backend.call(
        "POST", VERIFY, json={"challenge_id": challenge["challenge_id"], "code": code}
    )
    assert r.status_code == 200


async def test_opted_out_phone_gets_the_code_by_courriel(backend: Backend) -> None:
    await backend.call("POST", "/api/sms/opt-out", json={"phone": "418 555 0101"})
    r = await backend.call("GET", "/api/sms/status", params={"phone": "+14185550101"})
    assert r.json()["opted_out"] is True
    challenge = await _start(backend, "100001", "418-555-0101")
    code = last_code(backend, "julie.tremblay@example.com")
    r = await backend.call(
        "POST", VERIFY, json={"challenge_id": challenge["challenge_id"], "code": code}
    )
    assert r.status_code == 200
    await backend.call("POST", "/api/sms/opt-in", json={"phone": "418 555 0101"})
    r = await backend.call("GET", "/api/sms/status", params={"phone": "4185550101"})
    assert r.json()["opted_out"] is False


async def test_pending_account_verifies_with_its_status(backend: Backend) -> None:
    body = await identify(backend, "100003", "418-555-0103")
    assert body["family"]["status"] == "pending"


async def test_identification_by_sms_sender(backend: Backend) -> None:
    r = await backend.call("POST", "/api/identify/phone", json={"phone": "+14185550102"})
    body = r.json()
    assert body["match"] == "one" and body["family"]["client_number"] == "100002"
    r = await backend.call("GET", "/api/family", token=body["family_token"])
    assert r.json()["client_number"] == "100002"
    r = await backend.call("POST", "/api/identify/phone", json={"phone": "+14185550199"})
    assert r.json() == {"match": "several"}
    r = await backend.call("POST", "/api/identify/phone", json={"phone": "+15145550000"})
    assert r.json() == {"match": "none"}


async def test_widget_token(backend: Backend) -> None:
    secret = backend.settings.widget_secret
    token = mint_widget_token("100001", secret, backend.clock.now(), ttl_seconds=300)
    r = await backend.call("POST", "/api/identify/widget", json={"widget_token": token})
    assert r.status_code == 200 and r.json()["family"]["client_number"] == "100001"
    r = await backend.call("GET", "/api/family", token=r.json()["family_token"])
    assert r.status_code == 200

    forged = mint_widget_token("100001", "not-the-city-secret", backend.clock.now())
    r = await backend.call("POST", "/api/identify/widget", json={"widget_token": forged})
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    backend.clock.advance(timedelta(minutes=6))
    r = await backend.call("POST", "/api/identify/widget", json={"widget_token": token})
    assert r.status_code == 401


async def test_family_token_expires(backend: Backend) -> None:
    body = await identify(backend, "100002", "418-555-0102")
    backend.clock.advance(timedelta(minutes=121))
    r = await backend.call("GET", "/api/family", token=body["family_token"])
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
