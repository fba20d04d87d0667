"""the outbox's SMS queue: each text's priority and cost in segments, and the shared pace of
the sending numbers

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 17:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notification") as batch:
        batch.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="2"))
        batch.add_column(sa.Column("segments", sa.Integer(), nullable=False, server_default="1"))
    op.create_index(
        "ix_notification_sms_queue", "notification", ["channel", "status", "priority", "id"]
    )
    op.create_table(
        "sms_pace",
        sa.Column("id", sa.String(length=20), nullable=False),
        sa.Column("next_free_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("sms_pace")
    op.drop_index("ix_notification_sms_queue", table_name="notification")
    with op.batch_alter_table("notification") as batch:
        batch.drop_column("segments")
        batch.drop_column("priority")
