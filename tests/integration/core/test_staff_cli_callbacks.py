"""`staff_cli callbacks` / `callback-close`: the help desk's list of parents to call back."""

from __future__ import annotations

from pathlib import Path

from backend.adapters.clock import ManualClock, from_local
from backend.db.engine import make_engine, make_session_factory, transaction
from backend.services import callbacks
from tests.integration.core.test_staff_cli import NOW, PASSWORD, _city, _run


def test_the_help_desk_lists_and_closes_callback_requests(tmp_path: Path) -> None:
    from datetime import datetime

    settings = _city(tmp_path)
    code, _, err = _run(
        settings, "staff", "create", "--username", "aide1", "--role", "help_desk",
        stdin=PASSWORD + "\n",
    )
    assert code == 0, err
    engine = make_engine(settings.database_url)
    clock = ManualClock(from_local(datetime.fromisoformat(NOW)))
    with transaction(make_session_factory(engine)) as db:
        made = callbacks.request_callback(
            db, family_id=None, phone="819 555-0177", topic="account", step="signup",
            child_first_name="Zoé", clock=clock, settings=settings,
        )
    engine.dispose()

    code, listed, err = _run(settings, "--staff", "aide1", "callbacks")
    assert code == 0, err
    assert [(c["id"], c["phone"], c["child_first_name"]) for c in listed] == [
        (made["id"], "+18195550177", "Zoé")
    ]
    code, closed, err = _run(settings, "--staff", "aide1", "callback-close", str(made["id"]))
    assert code == 0 and closed["status"] == "closed" and closed["closed_by"] == "aide1"
    code, listed, _ = _run(settings, "--staff", "aide1", "callbacks")
    assert listed == []
    code, listed, _ = _run(settings, "--staff", "aide1", "callbacks", "--all")
    assert [c["status"] for c in listed] == ["closed"]
    code, _, err = _run(settings, "--staff", "aide1", "callback-close", "999")
    assert code == 1 and "trouvé" in err


def test_a_loi_25_deletion_takes_the_callback_requests_and_contact_checks(tmp_path: Path) -> None:
    """A deleted file keeps no number to call back nor a contact typed to open it."""
    from datetime import datetime

    from sqlalchemy import func, select

    from backend.db.helpdesk import CallbackRequest, ContactCheck
    from backend.db.models import Family
    from backend.services import signup

    settings = _city(tmp_path)
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)
    clock = ManualClock(from_local(datetime.fromisoformat(NOW)))
    with transaction(factory) as db:
        julie = db.scalar(select(Family.id).where(Family.client_number == "100001"))
        callbacks.request_callback(
            db, family_id=julie, phone=None, topic="payment", step="checkout",
            child_first_name=None, clock=clock, settings=settings,
        )
        check = signup.start(db, phone="418 555-0101", email=None, clock=clock, settings=settings)
        db.get(ContactCheck, check["challenge_id"]).family_id = julie  # type: ignore[union-attr]
    code, _, err = _run(settings, "--staff", "coordo", "delete", "100001", "--force")
    assert code == 0, err
    with transaction(factory) as db:
        left = [
            db.scalar(select(func.count()).select_from(m).where(m.family_id == julie))
            for m in (CallbackRequest, ContactCheck)
        ]
    engine.dispose()
    assert left == [0, 0]
