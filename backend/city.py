"""The deploying city's facts, read from one YAML file per city (backend/cities/<name>.yml).

Phones, help-desk hours, URLs and policies differ from city to city; the code does not. The
file is read once per path; `Settings.from_env` takes its policies as the defaults of the
settings the services use (hold, payment link, offer), so one file changes them all.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated

import yaml  # type: ignore[import-untyped]  # no stubs in the environment (types-PyYAML)
from pydantic import BaseModel, Field, StringConstraints

CITIES = Path(__file__).with_name("cities")
DEFAULT_CITY = "val-fleuri"

Clock = Annotated[str, StringConstraints(pattern=r"^\d{2}:\d{2}$")]


class HelpDesk(BaseModel):
    hours: dict[Annotated[int, Field(ge=1, le=7)], tuple[Clock, Clock]]

    def as_setting(self) -> str:
        """The hours in HELP_DESK_HOURS's form ("1 08:30-16:30; 2 …"), the setting's default."""
        return "; ".join(
            f"{day} {opens}-{closes}" for day, (opens, closes) in sorted(self.hours.items())
        )


class Urls(BaseModel):
    portal: str
    password_reset: str
    spam_help: str
    profile_help: str
    calendar_help: str


class Refunds(BaseModel):
    """The parameters of the one refund rule (backend.domain.refunds.RefundPolicy)."""

    fee_cents: Annotated[int, Field(ge=0)] = 0
    deadline_days: Annotated[int, Field(ge=0)] | None = None


class Policies(BaseModel):
    hold_minutes: Annotated[int, Field(ge=1)]
    pay_link_minutes: Annotated[int, Field(ge=1)]
    offer_hours: Annotated[int, Field(ge=1)]
    resident_proofs: list[str]
    refunds: Refunds
    releve24_by: Annotated[str, StringConstraints(pattern=r"^\d{2}-\d{2}$")]
    what_to_bring: list[str]
    browsers: list[str]


class City(BaseModel):
    name: str
    phone: str
    help_desk: HelpDesk
    urls: Urls
    policies: Policies


def city_path(city: str) -> Path:
    """A city's file: a name in backend/cities/, or a path to a .yml file."""
    return Path(city) if city.endswith((".yml", ".yaml")) else CITIES / f"{city}.yml"


@cache
def load(city: str = DEFAULT_CITY) -> City:
    """The city's facts; a missing or malformed file stops the backend at start-up."""
    data = yaml.safe_load(city_path(city).read_text(encoding="utf-8"))
    return City.model_validate(data)
