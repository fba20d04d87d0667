"""help desk: callback requests left outside opening hours, contact checks (a one-time code
proving a new parent holds a phone or a courriel)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 16:35:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "callback_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("topic", sa.String(length=30), nullable=False),
        sa.Column("step", sa.String(length=30), nullable=False),
        sa.Column("child_first_name", sa.String(length=80), nullable=True),
        sa.Column(
            "status",
            sa.Enum("open", "closed", name="callbackstatus", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expected_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("closed_by", sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(
            ["family_id"],
            ["family.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("callback_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_callback_request_family_id"), ["family_id"], unique=False
        )
        batch_op.create_index("ix_callback_request_status", ["status", "id"], unique=False)

    op.create_table(
        "contact_check",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column(
            "channel",
            sa.Enum("sms", "email", name="channel", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("contact", sa.String(length=254), nullable=False),
        sa.Column("contact_key", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "verified",
                "locked",
                "expired",
                name="challengestatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("usable_until", sa.DateTime(), nullable=True),
        sa.Column("family_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["family_id"],
            ["family.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("contact_check", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contact_check_contact_key"), ["contact_key"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("contact_check", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_check_contact_key"))

    op.drop_table("contact_check")
    with op.batch_alter_table("callback_request", schema=None) as batch_op:
        batch_op.drop_index("ix_callback_request_status")
        batch_op.drop_index(batch_op.f("ix_callback_request_family_id"))

    op.drop_table("callback_request")
