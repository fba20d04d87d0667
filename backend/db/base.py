"""The declarative base every table of the schema is mapped on (backend/db/__init__.py
imports every model module, so `Base.metadata` always holds the whole schema)."""

from __future__ import annotations

import enum

from sqlalchemy import Enum
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


def stored_enum(cls: type[enum.Enum]) -> Enum:
    # Store the value (a readable, stable string), not the Python name; no native DB enum
    # type so adding a state is a plain migration on both SQLite and PostgreSQL.
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
