"""outbox delivery: retry schedule, last error kind, content expiry

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 10:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("last_error", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(), nullable=True))
    # Messages waiting when the schema changes are due now.
    op.execute(
        "UPDATE notification SET next_attempt_at = created_at WHERE status IN ('pending', 'failed')"
    )
    op.execute(
        "UPDATE notification SET status = 'pending' WHERE status = 'failed' AND attempts < 3"
    )


def downgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
        batch_op.drop_column("last_error")
        batch_op.drop_column("next_attempt_at")
