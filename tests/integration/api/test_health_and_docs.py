"""Health, OpenAPI, demo-only routes and French validation errors."""

from __future__ import annotations

from api_harness import Backend


async def test_health(backend: Backend) -> None:
    r = await backend.call("GET", "/health", auth=False)
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok", "demo_mode": False}


async def test_openapi_served(backend: Backend) -> None:
    r = await backend.call("GET", "/docs/openapi.json", auth=False)
    assert r.status_code == 200
    paths = r.json()["paths"]
    for path in ("/api/identify/start", "/api/cart/lines", "/api/checkout", "/health"):
        assert path in paths, sorted(paths)


async def test_demo_routes_absent_without_demo_mode(backend: Backend) -> None:
    for method, path in (
        ("GET", "/api/dev/outbox"),
        ("GET", "/api/dev/clock"),
        ("POST", "/api/dev/clock"),
    ):
        r = await backend.call(method, path, json={"advance_minutes": 5})
        assert r.status_code == 404, (path, r.text)
        assert r.json()["error"]["code"] == "not_found"
    r = await backend.call("GET", "/docs/openapi.json", auth=False)
    assert not [p for p in r.json()["paths"] if p.startswith("/api/dev")]


async def test_demo_routes_in_demo_mode(demo_backend: Backend) -> None:
    r = await demo_backend.call("POST", "/api/dev/clock", json={"now": "2027-05-15T08:30:00"})
    assert r.status_code == 200 and r.json()["now"] == "2027-05-15T08:30:00"
    assert r.json()["utc"] == "2027-05-15T12:30:00"
    r = await demo_backend.call("POST", "/api/dev/clock", json={"advance_minutes": 30})
    assert r.json()["now"] == "2027-05-15T09:00:00"
    r = await demo_backend.call("POST", "/api/dev/clock", json={"now": "pas une date"})
    assert r.status_code == 422
    body = r.json()["error"]
    assert body["code"] == "invalid_request" and "date" in body["fields"]["now"]

    await demo_backend.call(
        "POST", "/api/identify/start", json={"client_number": "100001", "phone": "418-555-0101"}
    )
    r = await demo_backend.call("GET", "/api/dev/outbox", params={"recipient": "418-555-0101"})
    [message] = r.json()
    assert message["channel"] == "sms" and message["kind"] == "otp"
    assert message["recipient"] == "+14185550101" and "code" in message["body"]


async def test_validation_errors_are_french_never_500(backend: Backend) -> None:
    cases: list[tuple[str, dict[str, object]]] = [
        ("/api/identify/start", {"content": b"{pas du json"}),
        ("/api/identify/start", {"content": b""}),
        ("/api/identify/start", {"json": []}),
        ("/api/identify/start", {"json": {}}),
        ("/api/identify/start", {"json": {"client_number": "😀", "phone": "418-555-0101"}}),
        ("/api/identify/start", {"json": {"client_number": "100001", "phone": "allo"}}),
        ("/api/identify/start", {"json": {"client_number": "1" * 500, "phone": "x" * 5000}}),
        ("/api/identify/verify", {"json": {"challenge_id": "x", "code": None}}),
        ("/api/sms/opt-out", {"json": {"phone": "🙂🙂"}}),
    ]
    for path, kwargs in cases:
        r = await backend.call("POST", path, **kwargs)  # type: ignore[arg-type]
        assert r.status_code == 422, (path, kwargs, r.text)
        error = r.json()["error"]
        assert error["code"] == "invalid_request"
        assert "renseignements" in error["message"]
        assert error["fields"]
    r = await backend.call("POST", "/api/identify/start", json={})
    assert r.json()["error"]["fields"]["client_number"] == "Ce renseignement est requis."


async def test_unknown_route_and_method(backend: Backend) -> None:
    r = await backend.call("GET", "/api/nothing-here")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    assert "trouvé" in r.json()["error"]["message"]


async def test_undeclared_method_is_405_with_allow_and_our_error(backend: Backend) -> None:
    for method, path, allowed in (
        ("DELETE", "/api/family", "GET"),
        ("PUT", "/api/cart/lines", "POST"),
        ("GET", "/api/cart/lines/5", "DELETE, PATCH"),
        ("TRACE", "/api/orders/7", "GET"),
    ):
        r = await backend.call(method, path)
        assert r.status_code == 405, (method, path, r.text)
        named = set(r.headers["allow"].split(", "))
        assert set(allowed.split(", ")) <= named and method not in named, (method, path, named)
        error = r.json()["error"]
        assert error["code"] == "invalid_request" and error["message"]


async def test_document_lists_each_answer_of_every_route(backend: Backend) -> None:
    doc = (await backend.call("GET", "/docs/openapi.json", auth=False)).json()
    for path, operations in doc["paths"].items():
        if path.startswith("/api/staff"):
            continue
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "default" not in responses, (method, path)
            ok = [s for s in responses if s.startswith("2")]
            assert ok, (method, path, sorted(responses))
            for status, answer in responses.items():
                media = answer["content"]
                if "application/json" in media and not status.startswith("2") and path != "/health":
                    error = media["application/json"]["schema"]["properties"]["error"]
                    assert {"code", "message"} <= set(error["required"]), (method, path)
    eligible = doc["paths"]["/api/catalog/eligible"]["get"]["parameters"]
    assert eligible == [
        {
            "name": "child_id",
            "in": "query",
            "required": True,
            "schema": {
                "type": "integer",
                "minimum": 1,
                "maximum": 2**31 - 1,
                "title": "Child Id",
            },
        }
    ]
    body = doc["paths"]["/api/identify/start"]["post"]["requestBody"]
    assert body["required"] is True
    phone = body["content"]["application/json"]["schema"]["properties"]["phone"]
    assert phone["pattern"].startswith("^") and phone["maxLength"] == 200


async def test_bodies_are_strict_like_the_document(backend: Backend) -> None:
    for body in (
        {"client_number": 100001, "phone": "418-555-0101"},
        {"client_number": "100001", "phone": "abc 418 555 0101"},
        {"client_number": " 100001", "phone": "418-555-0101"},
    ):
        r = await backend.call("POST", "/api/identify/start", json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["error"]["code"] == "invalid_request"
