"""Periodic work: expiries and offers, due installments, then what the backend forgets (codes,
old identification records, old outbox messages, old conversations in the bot's tracker
store), each in its own transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from backend.adapters.clock import Clock
from backend.adapters.gateway import PaymentGateway
from backend.db.engine import run_transaction
from backend.services import installment_charges, refund_sender, retention, waitlist
from backend.settings import Settings


def run_due_jobs(
    session_factory: sessionmaker[Session],
    *,
    clock: Clock,
    settings: Settings,
    gateway: PaymentGateway,
) -> dict[str, Any]:
    """Run what is due now; returns counts per job (the outbox dispatch is A2's)."""
    expiries = run_transaction(
        session_factory,
        lambda db: waitlist.expire_and_cascade(
            db, clock=clock, settings=settings, gateway=gateway
        ),
    )
    # Provider calls: each between two transactions of its own, never inside one.
    charges = installment_charges.charge_due_installments(
        session_factory, clock=clock, settings=settings, gateway=gateway
    )
    reconciled = installment_charges.reconcile(
        session_factory, clock=clock, settings=settings, gateway=gateway
    )
    # Refunds recorded by the steps above, and those whose answer never came.
    refunds = refund_sender.send_pending(
        session_factory, gateway=gateway, clock=clock, retry_stale=True
    )
    forgotten = dict(retention.NOTHING_DONE)
    if run_transaction(
        session_factory,
        lambda db: retention.anything_due(db, clock=clock, settings=settings),
        write=False,
    ):
        forgotten = run_transaction(
            session_factory, lambda db: retention.run(db, clock=clock, settings=settings)
        )
    forgotten["conversations_deleted"] = retention.forget_old_conversations(
        clock=clock, settings=settings
    )
    return {
        "expiries": expiries,
        "installments": charges,
        "payments": reconciled,
        "refunds": refunds,
        "retention": forgotten,
    }
