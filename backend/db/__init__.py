"""The database: every model module is imported here, so that `Base.metadata` (migrations,
`create_all` in tests) always holds the whole schema, whichever module was imported first."""

from backend.db import access, helpdesk, models, notifications, payment_attempts, waiting_room

__all__ = ["access", "helpdesk", "models", "notifications", "payment_attempts", "waiting_room"]
