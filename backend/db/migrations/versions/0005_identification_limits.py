"""identification limits: keyed hashes of the typed phone, client number and client address;
the outbox's age index for retention

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEYS = ("phone_key", "client_key", "address_key")


def upgrade() -> None:
    with op.batch_alter_table("identity_challenge", schema=None) as batch_op:
        for name in _KEYS:
            batch_op.add_column(sa.Column(name, sa.String(length=64), nullable=True))
        for name in _KEYS:
            batch_op.create_index(
                f"ix_identity_challenge_{name}", [name, "created_at"], unique=False
            )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index("ix_notification_created_at", ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_created_at")
    with op.batch_alter_table("identity_challenge", schema=None) as batch_op:
        for name in _KEYS:
            batch_op.drop_index(f"ix_identity_challenge_{name}")
        for name in _KEYS:
            batch_op.drop_column(name)
