"""fiche santé served by the backend: allergies with epipen, conditions, a sealed
health-insurance number, two emergency contacts, the authorisations, and the reminders sent

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 17:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("health_record", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("epipen", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("conditions", sa.Text(), nullable=False, server_default=""))
        for name, size in (
            ("emergency_contact_relation", 60),
            ("second_contact_name", 120),
            ("second_contact_phone", 20),
        ):
            batch_op.add_column(
                sa.Column(name, sa.String(length=size), nullable=False, server_default="")
            )
        batch_op.add_column(sa.Column("insurance_sealed", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("may_give_first_aid", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("may_photograph", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("may_leave_alone", sa.Boolean(), nullable=True))
    op.create_table(
        "health_reminder",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("person_id", "starts_on"),
    )


def downgrade() -> None:
    op.drop_table("health_reminder")
    with op.batch_alter_table("health_record", schema=None) as batch_op:
        for column in (
            "may_leave_alone",
            "may_photograph",
            "may_give_first_aid",
            "insurance_sealed",
            "second_contact_phone",
            "second_contact_name",
            "emergency_contact_relation",
            "conditions",
            "epipen",
        ):
            batch_op.drop_column(column)
