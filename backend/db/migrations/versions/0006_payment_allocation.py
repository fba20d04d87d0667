"""payment allocation: what each captured installment paid for each line

Installments captured before this revision are allocated by the rule they were sold under
(each installment shared among its order's lines in proportion to their prices), so a later
cancellation refunds what was paid for the line, never nothing.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from backend.domain.allocation import split

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payment_allocation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("installment_id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("amount_cents >= 0", name="allocation_not_negative"),
        sa.ForeignKeyConstraint(["installment_id"], ["installment.id"]),
        sa.ForeignKeyConstraint(["line_id"], ["line.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("installment_id", "line_id"),
    )
    with op.batch_alter_table("payment_allocation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_allocation_installment_id"), ["installment_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_payment_allocation_line_id"), ["line_id"], unique=False
        )
    _allocate_earlier_captures()


def _allocate_earlier_captures() -> None:
    conn = op.get_bind()
    captured = conn.execute(
        sa.text(
            "SELECT id, order_id, amount_cents, paid_at FROM installment "
            "WHERE status IN ('paid', 'refunded') AND paid_at IS NOT NULL ORDER BY id"
        )
    ).all()
    for inst_id, order_id, amount, paid_at in captured:
        lines = conn.execute(
            sa.text(
                "SELECT line.id, line.base_price_cents + COALESCE("
                "(SELECT SUM(price_cents) FROM line_option WHERE line_option.line_id = line.id),"
                " 0) FROM line WHERE line.order_id = :order ORDER BY line.id"
            ),
            {"order": order_id},
        ).all()
        if not lines:
            continue
        parts = split(int(amount), [int(price) for _, price in lines])
        for (line_id, _), part in zip(lines, parts, strict=True):
            conn.execute(
                sa.text(
                    "INSERT INTO payment_allocation "
                    "(installment_id, line_id, amount_cents, created_at) "
                    "VALUES (:inst, :line, :amount, :at)"
                ),
                {"inst": inst_id, "line": line_id, "amount": part, "at": paid_at},
            )


def downgrade() -> None:
    with op.batch_alter_table("payment_allocation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_allocation_line_id"))
        batch_op.drop_index(batch_op.f("ix_payment_allocation_installment_id"))
    op.drop_table("payment_allocation")
