"""Age eligibility: ages are taken at 30 September of the season's year (Québec practice)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


def reference_date(season_year: int) -> date:
    return date(season_year, 9, 30)


def age_on(birth_date: date, on: date) -> int:
    """Whole years completed on `on` (a birthday counts on its day; 29 February on 1 March)."""
    years = on.year - birth_date.year
    if (on.month, on.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


@dataclass(frozen=True)
class Eligibility:
    eligible: bool
    age: int
    min_age: int
    max_age: int
    reference_date: date


def check_age(birth_date: date, season_year: int, min_age: int, max_age: int) -> Eligibility:
    """Eligible when min_age <= age at 30 September <= max_age (both inclusive)."""
    ref = reference_date(season_year)
    age = age_on(birth_date, ref)
    return Eligibility(min_age <= age <= max_age, age, min_age, max_age, ref)
