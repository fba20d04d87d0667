"""The waiting room's tables: one `rush` row per rush window of a season, one `rush_entry` per
family in it. The queue lives here, never in a process's memory: every backend worker reads and
admits from the same rows, and a restart loses no one's place.

`seq` is a family's place in line: NULL in the pre-queue, then 1..n in the drawn order at the
opening, then `last_seq + 1` for each later arrival (given under the rush row's lock, so without
gap). Families are let in strictly in `seq` order and `admitted_through` is the last `seq` let
in: a waiting family's position is `seq - admitted_through`, two numbers, whatever the queue's
length (backend.domain.waiting_room.position_from_frontier)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, stored_enum
from backend.domain.waiting_room import EntryStatus, Release, RushState


class Rush(Base):
    __tablename__ = "rush"

    id: Mapped[int] = mapped_column(primary_key=True)
    season_id: Mapped[int] = mapped_column(ForeignKey("season.id"), index=True)
    state: Mapped[RushState] = mapped_column(stored_enum(RushState))
    opens_at: Mapped[datetime] = mapped_column(DateTime)
    rate_per_minute: Mapped[float] = mapped_column(Float)
    cap: Mapped[int] = mapped_column(Integer)
    # The rate's unspent allowance and when it was last counted (domain.admissions).
    credit: Mapped[float] = mapped_column(Float, default=0.0)
    credited_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    admitted_through: Mapped[int] = mapped_column(Integer, default=0)
    # The draw of the pre-queue, for audit: when, and the family ids in the order drawn.
    drawn_at: Mapped[datetime | None] = mapped_column(DateTime)
    draw_order: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)


class RushEntry(Base):
    __tablename__ = "rush_entry"
    __table_args__ = (
        UniqueConstraint("rush_id", "family_id"),
        # the next families to let in, and a seq's row
        Index("ix_rush_entry_queue", "rush_id", "status", "seq"),
        # admissions over the last minutes (observed rate)
        Index("ix_rush_entry_admitted", "rush_id", "admitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rush_id: Mapped[int] = mapped_column(ForeignKey("rush.id"))
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id"), index=True)
    seq: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[EntryStatus] = mapped_column(stored_enum(EntryStatus))
    joined_at: Mapped[datetime] = mapped_column(DateTime)
    admitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_active_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_because: Mapped[Release | None] = mapped_column(stored_enum(Release))
    # Where the admission message goes besides the family's phone: the Rasa conversation id
    # the family joined from (`web_<hex>` / `sms_<hex>`, never a phone) and its channel.
    notify_conversation: Mapped[str | None] = mapped_column(String(64))
    notify_channel: Mapped[str | None] = mapped_column(String(10))
