"""What the backend holds after a conversation, read straight from its database.

End-to-end tests assert the state a help-desk agent would see, not what the bot said it did.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, text


def family_lines(db: Engine, client: str) -> list[dict[str, Any]]:
    """A family's live cart lines (held, waitlisted, offered, paid), in week order."""
    query = text(
        """
        SELECT l.id, p.first_name AS child, s.id AS session_id, s.number AS week, l.status,
               g.label AS grp, si.name AS site, l.order_id, l.waitlisted_at,
               (SELECT count(*) FROM line_option lo WHERE lo.line_id = l.id) AS options
        FROM line l
        JOIN person p ON p.id = l.person_id
        JOIN family f ON f.id = p.family_id
        JOIN session s ON s.id = l.session_id
        JOIN activity_group g ON g.id = s.group_id
        LEFT JOIN site si ON si.id = g.site_id
        WHERE f.client_number = :client AND l.status NOT IN ('released', 'cancelled')
        ORDER BY s.number, l.id
        """
    )
    with db.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query, {"client": client})]


def latest_order(db: Engine, client: str) -> dict[str, Any]:
    """The family's most recent order with its installments."""
    query = text(
        "SELECT o.id, o.status, o.total_cents, o.installment_count, o.pay_token FROM orders o "
        "JOIN family f ON f.id = o.family_id WHERE f.client_number = :client "
        "ORDER BY o.id DESC LIMIT 1"
    )
    installments = text(
        "SELECT seq, due_on, amount_cents, status FROM installment "
        "WHERE order_id = :o ORDER BY seq"
    )
    with db.connect() as conn:
        order = dict(conn.execute(query, {"client": client}).one()._mapping)
        order["installments"] = [
            dict(r._mapping) for r in conn.execute(installments, {"o": order["id"]})
        ]
    return order
