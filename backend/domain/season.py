"""The season's registration window: residents open first, non-residents later."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Window:
    residents_open_at: datetime
    nonresidents_open_at: datetime
    closes_at: datetime

    def opens_at(self, *, resident: bool) -> datetime:
        return self.residents_open_at if resident else self.nonresidents_open_at

    def is_open(self, now: datetime, *, resident: bool) -> bool:
        return self.opens_at(resident=resident) <= now < self.closes_at

    def is_closed(self, now: datetime) -> bool:
        return now >= self.closes_at
