"""Dates and amounts as a Québec parent reads them (babel fr_CA, sentences from the domain)."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.actions.formatting import calendar_date, date_range, long_date, money

DOMAIN = yaml.safe_load((Path(__file__).resolve().parents[3] / "bot" / "domain.yml").read_text())


def test_a_week_within_one_month_names_the_month_once() -> None:
    assert date_range(DOMAIN, "2027-07-05", "2027-07-09") == "5 au 9 juillet"


def test_a_week_across_two_months_names_both() -> None:
    assert date_range(DOMAIN, "2027-06-28", "2027-07-02") == "28 juin au 2 juillet"


def test_the_age_reference_date_has_no_weekday_and_a_weekday_date_has_one() -> None:
    assert calendar_date("2027-09-30") == "30 septembre 2027"
    assert long_date("2027-06-28") == "lundi 28 juin 2027"


def test_money_uses_the_quebec_format() -> None:
    assert money(123450).replace("\u00a0", " ").replace("\u202f", " ") == "1 234,50 $"
