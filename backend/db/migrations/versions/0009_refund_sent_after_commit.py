"""refunds recorded before the provider is asked: each refund row's status, idempotency key,
tries and failure

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

STATUS = sa.Enum(
    "pending", "succeeded", "failed", name="refundstatus", native_enum=False, length=20
)


def upgrade() -> None:
    with op.batch_alter_table("refund", schema=None) as batch_op:
        # Every refund recorded before this revision was made by the provider at once.
        batch_op.add_column(
            sa.Column("status", STATUS, nullable=False, server_default="succeeded")
        )
        batch_op.add_column(sa.Column("idempotency_key", sa.String(length=120), nullable=True))
        batch_op.add_column(
            sa.Column("tries", sa.Integer(), nullable=False, server_default="1")
        )
        batch_op.add_column(sa.Column("failure_code", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(), nullable=True))
    op.execute("UPDATE refund SET idempotency_key = 'recorded-' || id, updated_at = created_at")
    with op.batch_alter_table("refund", schema=None) as batch_op:
        batch_op.alter_column("idempotency_key", existing_type=sa.String(120), nullable=False)
        batch_op.alter_column("status", server_default=None)
        batch_op.alter_column("tries", server_default=None)
        batch_op.create_unique_constraint("uq_refund_idempotency_key", ["idempotency_key"])
        batch_op.create_index(batch_op.f("ix_refund_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("refund", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refund_status"))
        batch_op.drop_constraint("uq_refund_idempotency_key", type_="unique")
        batch_op.drop_column("updated_at")
        batch_op.drop_column("failure_code")
        batch_op.drop_column("tries")
        batch_op.drop_column("idempotency_key")
        batch_op.drop_column("status")
