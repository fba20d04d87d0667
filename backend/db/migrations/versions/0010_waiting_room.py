"""waiting room: a season's rush windows and the families queued in them

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 17:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=20)


def upgrade() -> None:
    op.create_table(
        "rush",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("season_id", sa.Integer(), nullable=False),
        sa.Column("state", _enum("rushstate", "open", "paused", "closed"), nullable=False),
        sa.Column("opens_at", sa.DateTime(), nullable=False),
        sa.Column("rate_per_minute", sa.Float(), nullable=False),
        sa.Column("cap", sa.Integer(), nullable=False),
        sa.Column("credit", sa.Float(), nullable=False),
        sa.Column("credited_at", sa.DateTime(), nullable=True),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("admitted_through", sa.Integer(), nullable=False),
        sa.Column("drawn_at", sa.DateTime(), nullable=True),
        sa.Column("draw_order", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["season_id"], ["season.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("rush", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rush_season_id"), ["season_id"], unique=False)
    op.create_table(
        "rush_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rush_id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.Column(
            "status", _enum("entrystatus", "waiting", "admitted", "finished"), nullable=False
        ),
        sa.Column("joined_at", sa.DateTime(), nullable=False),
        sa.Column("admitted_at", sa.DateTime(), nullable=True),
        sa.Column("last_active_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column(
            "finished_because",
            _enum("release", "checked_out", "holds_expired", "idle"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(["family_id"], ["family.id"]),
        sa.ForeignKeyConstraint(["rush_id"], ["rush.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("rush_id", "family_id"),
    )
    with op.batch_alter_table("rush_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rush_entry_family_id"), ["family_id"], unique=False)
        batch_op.create_index("ix_rush_entry_queue", ["rush_id", "status", "seq"], unique=False)
        batch_op.create_index(
            "ix_rush_entry_admitted", ["rush_id", "admitted_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("rush_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_rush_entry_admitted")
        batch_op.drop_index("ix_rush_entry_queue")
        batch_op.drop_index(batch_op.f("ix_rush_entry_family_id"))
    op.drop_table("rush_entry")
    with op.batch_alter_table("rush", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rush_season_id"))
    op.drop_table("rush")
