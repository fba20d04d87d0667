"""Staff accounts and their sessions (docs/STAFF.md).

Passwords are hashed with argon2id (argon2-cffi's defaults). A login gives a session token for
the browser's cookie and a CSRF token the page sends back on every change; a programmatic
client (a script, the tests) gets a bearer token from the CLI instead. Only SHA-256 hashes of
tokens are stored, so a database leak gives no usable credential. Every session expires and
can be revoked.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend.adapters.clock import Clock
from backend.db.access import StaffAccount, StaffGroup, StaffSession
from backend.db.models import Group
from backend.domain.errors import RegistrationError
from backend.domain.roles import Role, StaffRefusal

TOKEN_BYTES = 32
MAX_TOKEN_LENGTH = 128
MIN_PASSWORD_LENGTH = 12
# Guessing passwords: after this many wrong ones in a row, the account refuses every login
# (the same answer as a wrong password, so the lock tells nothing) for LOCK_MINUTES.
MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 15
_hasher = PasswordHasher()
# Verified when the username is unknown, so that a wrong username costs as long as a wrong
# password and the answer's timing does not tell which accounts exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class StaffPrincipal:
    """Who is calling, as a staff route sees it."""

    staff_id: int
    username: str
    role: Role
    groups: tuple[int, ...]
    kind: str  # "cookie" or "token"
    csrf_hash: str | None

    def csrf_matches(self, given: str | None) -> bool:
        if self.csrf_hash is None or not given or len(given) > MAX_TOKEN_LENGTH:
            return False
        return hmac.compare_digest(_hash(given), self.csrf_hash)

    def public(self) -> dict[str, Any]:
        return {"username": self.username, "role": self.role.value, "groups": list(self.groups)}


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _check_username(username: str) -> str:
    name = username.strip()
    if not 2 <= len(name) <= 60 or not all(c.isalnum() or c in "._-" for c in name):
        raise RegistrationError("invalid_request", fields={"username": "invalid"})
    return name


def _check_groups(db: Session, group_ids: Iterable[int]) -> list[int]:
    wanted = sorted(set(group_ids))
    found = set(db.scalars(select(Group.id).where(Group.id.in_(wanted))).all()) if wanted else set()
    if len(found) != len(wanted):
        raise RegistrationError("invalid_request", fields={"group": "invalid"})
    return wanted


def account_dict(account: StaffAccount) -> dict[str, Any]:
    return {
        "id": account.id,
        "username": account.username,
        "role": account.role,
        "active": account.active,
        "groups": [g.group_id for g in account.groups],
        "created_at": account.created_at.isoformat(),
    }


def create_account(
    db: Session,
    username: str,
    password: str,
    role: str,
    *,
    groups: Iterable[int] = (),
    clock: Clock,
) -> dict[str, Any]:
    """A new active account. Raises invalid_request (username, password shorter than
    MIN_PASSWORD_LENGTH, unknown role or group), staff_username_taken."""
    name = _check_username(username)
    try:
        parsed = Role(role)
    except ValueError:
        raise RegistrationError("invalid_request", fields={"role": "invalid"}) from None
    if len(password) < MIN_PASSWORD_LENGTH:
        raise RegistrationError("invalid_request", fields={"password": "too_short"})
    if db.scalar(select(StaffAccount.id).where(StaffAccount.username == name)) is not None:
        raise StaffRefusal("staff_username_taken")
    account = StaffAccount(
        username=name,
        password_hash=hash_password(password),
        role=parsed.value,
        active=True,
        created_at=clock.now(),
        failed_logins=0,
    )
    for group_id in _check_groups(db, groups):
        account.groups.append(StaffGroup(group_id=group_id))
    db.add(account)
    db.flush()
    return account_dict(account)


def _account(db: Session, username: str) -> StaffAccount:
    account = db.scalar(select(StaffAccount).where(StaffAccount.username == username))
    if account is None:
        raise RegistrationError("not_found")
    return account


def set_password(db: Session, username: str, password: str, *, clock: Clock) -> dict[str, Any]:
    """A new password; every session of the account is revoked."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise RegistrationError("invalid_request", fields={"password": "too_short"})
    account = _account(db, username)
    account.password_hash = hash_password(password)
    account.failed_logins = 0
    account.locked_until = None
    revoke_all(db, account.id, clock=clock)
    db.flush()
    return account_dict(account)


def set_active(db: Session, username: str, active: bool, *, clock: Clock) -> dict[str, Any]:
    """Disabling an account revokes its sessions at once."""
    account = _account(db, username)
    account.active = active
    if active:
        account.failed_logins = 0
        account.locked_until = None
    else:
        revoke_all(db, account.id, clock=clock)
    db.flush()
    return account_dict(account)


def set_groups(db: Session, username: str, group_ids: Iterable[int]) -> dict[str, Any]:
    account = _account(db, username)
    account.groups = [StaffGroup(group_id=g) for g in _check_groups(db, group_ids)]
    db.flush()
    return account_dict(account)


def list_accounts(db: Session) -> list[dict[str, Any]]:
    return [
        account_dict(a) for a in db.scalars(select(StaffAccount).order_by(StaffAccount.id)).all()
    ]


def _issue(
    db: Session, account: StaffAccount, *, kind: str, expires_at: datetime, clock: Clock
) -> tuple[str, str | None]:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    csrf = secrets.token_urlsafe(TOKEN_BYTES) if kind == "cookie" else None
    db.add(
        StaffSession(
            token_hash=_hash(token),
            staff_id=account.id,
            kind=kind,
            csrf_hash=_hash(csrf) if csrf else None,
            created_at=clock.now(),
            expires_at=expires_at,
        )
    )
    db.flush()
    return token, csrf


@dataclass(frozen=True)
class StoredPassword:
    staff_id: int
    password_hash: str
    active: bool
    locked: bool


def stored_password(db: Session, username: str, *, now: datetime) -> StoredPassword | None:
    """A read: what `check_password` needs, so that the slow argon2 verification runs outside
    any transaction (on SQLite a write transaction would hold the database's lock meanwhile)."""
    account = db.scalar(select(StaffAccount).where(StaffAccount.username == username.strip()))
    if account is None:
        return None
    locked = account.locked_until is not None and account.locked_until > now
    return StoredPassword(account.id, account.password_hash, account.active, locked)


def check_password(stored: StoredPassword | None, password: str) -> int:
    """The account id if `password` is right for an active account. Raises staff_login_failed,
    the same for an unknown username, a wrong password or a disabled account."""
    try:
        _hasher.verify(stored.password_hash if stored else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        raise StaffRefusal("staff_login_failed") from None
    if stored is None or not stored.active or stored.locked:
        raise StaffRefusal("staff_login_failed")
    return stored.staff_id


def record_failed_login(db: Session, staff_id: int, *, clock: Clock) -> None:
    """One more wrong password; at MAX_FAILED_LOGINS the account is locked for LOCK_MINUTES."""
    db.execute(
        update(StaffAccount)
        .where(StaffAccount.id == staff_id)
        .values(failed_logins=StaffAccount.failed_logins + 1)
    )
    account = db.get(StaffAccount, staff_id)
    if account is not None and account.failed_logins >= MAX_FAILED_LOGINS:
        account.failed_logins = 0
        account.locked_until = clock.now() + timedelta(minutes=LOCK_MINUTES)
    db.flush()


def open_session(
    db: Session, staff_id: int, password: str, *, clock: Clock, minutes: int
) -> dict[str, Any]:
    """A cookie session for an account whose password was just checked. Returns
    `{"session_token", "csrf_token", "expires_at", "staff"}`."""
    account = db.get(StaffAccount, staff_id)
    if account is None or not account.active:  # disabled since the check
        raise StaffRefusal("staff_login_failed")
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    account.failed_logins = 0
    account.locked_until = None
    expires = clock.now() + timedelta(minutes=minutes)
    token, csrf = _issue(db, account, kind="cookie", expires_at=expires, clock=clock)
    return {
        "session_token": token,
        "csrf_token": csrf,
        "expires_at": expires.isoformat(),
        "staff": {"username": account.username, "role": account.role,
                  "groups": [g.group_id for g in account.groups]},
    }


def issue_token(db: Session, username: str, *, clock: Clock, days: int) -> dict[str, Any]:
    """A bearer token for a programmatic client, bound to an active account."""
    account = _account(db, username)
    if not account.active:
        raise StaffRefusal("staff_forbidden")
    expires = clock.now() + timedelta(days=days)
    token, _csrf = _issue(db, account, kind="token", expires_at=expires, clock=clock)
    return {"token": token, "username": account.username, "expires_at": expires.isoformat()}


def principal(db: Session, token: str | None, *, now: datetime) -> StaffPrincipal | None:
    """The account behind a live (not expired, not revoked) session of an active account."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    row = db.get(StaffSession, _hash(token))
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    account = db.get(StaffAccount, row.staff_id)
    if account is None or not account.active:
        return None
    try:
        role = Role(account.role)
    except ValueError:
        return None
    return StaffPrincipal(
        staff_id=account.id,
        username=account.username,
        role=role,
        groups=tuple(g.group_id for g in account.groups),
        kind=row.kind,
        csrf_hash=row.csrf_hash,
    )


def revoke(db: Session, token: str, *, clock: Clock) -> bool:
    result = db.execute(
        update(StaffSession)
        .where(StaffSession.token_hash == _hash(token), StaffSession.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )
    return bool(getattr(result, "rowcount", 0))


def revoke_all(db: Session, staff_id: int, *, clock: Clock) -> int:
    result = db.execute(
        update(StaffSession)
        .where(StaffSession.staff_id == staff_id, StaffSession.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )
    return int(getattr(result, "rowcount", 0) or 0)
