"""The one exception the services raise for a refusal a parent (or the bot) must hear about.

It carries a stable machine `code` (the list in docs/API.md, "Errors") and the facts the message
needs (`extra`: `opens_at`, `age`, `reason`…). It carries no sentence: the HTTP layer renders the
French message from the locale catalogs by code, so the rules stay translatable.
"""

from __future__ import annotations

from typing import Final

# code -> HTTP status (docs/API.md). Kept beside the codes so a new code cannot miss its status.
HTTP_STATUS: Final[dict[str, int]] = {
    "unauthorized": 401,
    "forbidden": 403,
    "not_found": 404,
    "invalid_request": 422,
    "account_pending": 403,
    "account_locked": 403,
    "registration_not_open": 409,
    "not_eligible": 409,
    "session_full": 409,
    "option_full": 409,
    "already_registered": 409,
    # The child already holds (or has paid) a session at the same time: params session_id,
    # conflict_line_id, conflict_session_id, program, group, site, week, starts_on, ends_on.
    "overlapping_session": 409,
    "cart_empty": 409,
    "waitlist_only": 409,
    "terms_not_accepted": 422,
    "installments_not_allowed": 409,
    "code_invalid": 422,
    "code_expired": 410,
    "challenge_locked": 423,
    "resend_limit": 429,
    # Too many requests from one phone, client number or client address: nothing was done.
    "rate_limited": 429,
    "payment_link_expired": 410,
    # A new payment link asked for an order with nothing left to pay (paid, cancelled…).
    "nothing_due": 409,
    # A new payment link asked for an unpaid order whose places went to someone else.
    "places_released": 409,
    # The database aborted the request's transaction every time it was tried (deadlock under
    # heavy load): nothing changed, the caller may simply try again.
    "conflict": 409,
    # A parent cancelling a line already cancelled (or whose hold ran out).
    "already_cancelled": 409,
    # A parent cancelling a registration whose activity started (param starts_on): staff may.
    "activity_started": 409,
}

CODES: Final[frozenset[str]] = frozenset(HTTP_STATUS)


class RegistrationError(Exception):
    """A refusal with a stable code, e.g. `RegistrationError("not_eligible", age=4, min_age=5)`."""

    def __init__(self, code: str, /, **extra: object) -> None:
        if code not in CODES:
            raise ValueError(f"unknown error code {code!r}")
        super().__init__(code)
        self.code: str = code
        self.extra: dict[str, object] = dict(extra)

    @property
    def http_status(self) -> int:
        return HTTP_STATUS[self.code]

    def __repr__(self) -> str:
        return f"RegistrationError({self.code!r}, {self.extra!r})"
