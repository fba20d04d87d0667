"""The help desk's public facts and price quotes: from the city's file, the settings and the
live catalog, so changing one of them changes the answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from api_harness import START, Backend, seed_demo_data, start_backend, stop_backend
from sqlalchemy import create_engine, text

from backend import city
from backend.adapters.clock import ManualClock
from backend.settings import Settings


async def _program_id(backend: Backend, name: str) -> int:
    catalog = (await backend.call("GET", "/api/catalog")).json()
    return next(p["id"] for p in catalog["programs"] if p["name"] == name)


async def _quote(backend: Backend, **params: Any) -> dict[str, Any]:
    r = await backend.call("GET", "/api/quote", params=params)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_facts_need_the_service_secret_and_no_family(city: Backend) -> None:
    assert (await city.http.get("/api/facts")).status_code == 401
    r = await city.call("GET", "/api/facts")
    assert r.status_code == 200, r.text
    facts = r.json()
    assert facts["city"]["phone"] == "418 555-0199"
    assert facts["city"]["hours"]["1"] == ["08:30", "16:30"]
    assert "6" not in facts["city"]["hours"]
    assert facts["urls"]["password_reset"].startswith("https://")
    assert facts["season"]["residents_open_at"] < facts["season"]["nonresidents_open_at"]
    assert facts["season"]["releve24_by"] == "2028-02-28"
    assert facts["policies"]["hold_minutes"] == 20
    assert facts["policies"]["two_installments_min_cents"] == 100_00
    assert facts["policies"]["first_installment_percent"] == 50


async def test_a_changed_season_date_is_the_next_answer(city: Backend) -> None:
    engine = create_engine(city.settings.database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE season SET nonresidents_open_at = '2027-05-04 22:00:00'"))
    engine.dispose()
    facts = (await city.call("GET", "/api/facts")).json()
    assert facts["season"]["nonresidents_open_at"].startswith("2027-05-04T22:00")


async def test_a_camp_quote_is_the_catalog_price_with_its_options(city: Backend) -> None:
    camp = await _program_id(city, "Camp de jour")
    quote = await _quote(city, activity=camp, weeks=3, garde="true")
    # 3 × (95 $ + 40 $ garde) resident, 3 × (140 $ + 40 $) non-resident
    assert (quote["resident_cents"], quote["nonresident_cents"]) == (405_00, 540_00)
    assert quote["weeks"] == 3 and quote["options"] == ["garde"] and quote["per_week"]
    both = await _quote(city, activity=camp, weeks=2, garde="true", velo="true", resident="false")
    assert both["total_cents"] == 2 * (140_00 + 40_00 + 15_00)


async def test_a_changed_price_is_the_next_quote(city: Backend) -> None:
    camp = await _program_id(city, "Camp de jour")
    engine = create_engine(city.settings.database_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE session SET price_resident_cents = 11000 WHERE group_id IN "
                "(SELECT g.id FROM activity_group g JOIN program p ON p.id = g.program_id "
                "WHERE p.name = 'Camp de jour')"
            )
        )
    engine.dispose()
    assert (await _quote(city, activity=camp, weeks=2))["resident_cents"] == 220_00


async def test_a_session_program_counts_its_one_session_and_names_what_it_lacks(
    city: Backend,
) -> None:
    soccer = await _program_id(city, "Soccer récréatif")
    quote = await _quote(city, activity=soccer, weeks=4, garde="true")
    assert quote["weeks"] == 1 and not quote["per_week"]
    assert quote["not_offered"] == ["garde"] and quote["resident_cents"] == 60_00


async def test_bad_quotes_get_a_french_refusal(city: Backend) -> None:
    r = await city.call("GET", "/api/quote", params={"activity": 99999, "weeks": 1})
    assert r.status_code == 404
    r = await city.call("GET", "/api/quote", params={"activity": 1, "weeks": "trois"})
    assert r.status_code == 422
    assert "nombre" in r.json()["error"]["fields"]["weeks"]


def _other_city(tmp_path: Path) -> Path:
    text_ = city.city_path("val-fleuri").read_text(encoding="utf-8")
    text_ = text_.replace('phone: "418 555-0199"', 'phone: "819 555-0123"')
    text_ = text_.replace("hold_minutes: 20 ", "hold_minutes: 15 ")
    text_ = text_.replace("https://loisirs.val-fleuri.example", "https://loisirs.autre.example")
    path = tmp_path / "autre-ville.yml"
    path.write_text(text_, encoding="utf-8")
    return path


def test_the_city_file_sets_the_phone_and_policies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CITY", str(_other_city(tmp_path)))
    for name in ("CITY_PHONE", "HOLD_MINUTES"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings.from_env()
    assert (settings.city_phone, settings.hold_minutes) == ("819 555-0123", 15)
    monkeypatch.setenv("HOLD_MINUTES", "25")  # the environment still wins
    assert Settings.from_env().hold_minutes == 25


async def test_another_city_answers_with_its_own_facts(tmp_path: Path, database_url: str) -> None:
    path = _other_city(tmp_path)
    clock = ManualClock(START)
    seed_demo_data(database_url, clock)
    backend = await start_backend(
        database_url, clock=clock, city=str(path), city_phone="819 555-0123"
    )
    try:
        facts = (await backend.call("GET", "/api/facts")).json()
    finally:
        await stop_backend(backend)
    assert facts["city"]["phone"] == "819 555-0123"
    assert facts["urls"]["portal"] == "https://loisirs.autre.example"
