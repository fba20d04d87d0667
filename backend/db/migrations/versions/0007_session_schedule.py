"""session schedule: weekdays and daily hours, for the overlap rule

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 13:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("meets_weekdays", sa.String(length=7), nullable=True))
        batch_op.add_column(sa.Column("meets_from", sa.Time(), nullable=True))
        batch_op.add_column(sa.Column("meets_until", sa.Time(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("session", schema=None) as batch_op:
        batch_op.drop_column("meets_until")
        batch_op.drop_column("meets_from")
        batch_op.drop_column("meets_weekdays")
