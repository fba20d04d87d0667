"""the conversation a waiting family is told of its admission in (rush_entry.notify_*), and
the outbox's chat channel (a value of notification.channel, no schema change)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 20:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("rush_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notify_conversation", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("notify_channel", sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rush_entry", schema=None) as batch_op:
        batch_op.drop_column("notify_channel")
        batch_op.drop_column("notify_conversation")
