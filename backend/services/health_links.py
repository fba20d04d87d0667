"""Signed, expiring links to one child's fiche santé: `/sante/<token>`.

The token names the child and the family and says until when it holds; an HMAC-SHA256 with
`LINK_SECRET` (under its own label, so a payment link's signature never opens a fiche) binds
the three. Whoever holds the link is the family (it reaches them in the web chat, by texto or
by courriel, after identification): it opens that child's form and nothing else, until it
expires (`HEALTH_LINK_DAYS`). A child moved to another file, a forged or an expired token:
refused, with no hint of which.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from backend.adapters.clock import Clock
from backend.db.models import Family, Person
from backend.domain.errors import RegistrationError
from backend.services.health_records import is_complete_record
from backend.settings import Settings

_ID = r"([1-9][0-9]{0,11})"
_SHAPE = re.compile(rf"^h1\.{_ID}\.{_ID}\.{_ID}\.([0-9a-f]{{40}})$")


@dataclass(frozen=True)
class HealthLink:
    person_id: int
    family_id: int
    expires_at: datetime  # naive UTC


def _unix(instant: datetime) -> int:
    return int(instant.replace(tzinfo=UTC).timestamp())


def _mac(secret: str, person_id: int, family_id: int, expires: int) -> str:
    payload = f"fiche-sante|{person_id}|{family_id}|{expires}".encode()
    return hmac.new(secret.encode("utf-8"), payload, hashlib.sha256).hexdigest()[:40]


def mint(person: Person, *, clock: Clock, settings: Settings) -> tuple[str, datetime]:
    """(token, expiry) for this child's fiche."""
    expires_at = (clock.now() + timedelta(days=settings.health_link_days)).replace(microsecond=0)
    expires = _unix(expires_at)
    mac = _mac(settings.link_secret, person.id, person.family_id, expires)
    return f"h1.{person.id}.{person.family_id}.{expires}.{mac}", expires_at


def url(settings: Settings, token: str) -> str:
    return f"{settings.public_base_url}/sante/{token}"


def read(token: str, *, clock: Clock, settings: Settings) -> HealthLink:
    """The link's child and family; `health_link_invalid` (forged, malformed) or
    `health_link_expired`."""
    found = _SHAPE.match(token)
    if not found:
        raise RegistrationError("health_link_invalid")
    person_id, family_id, expires = (int(found.group(i)) for i in (1, 2, 3))
    expected = _mac(settings.link_secret, person_id, family_id, expires)
    if not hmac.compare_digest(expected, found.group(4)):
        raise RegistrationError("health_link_invalid")
    expires_at = datetime.fromtimestamp(expires, UTC).replace(tzinfo=None)
    if expires_at <= clock.now():
        raise RegistrationError("health_link_expired")
    return HealthLink(person_id=person_id, family_id=family_id, expires_at=expires_at)


def child_of_link(db: Session, link: HealthLink) -> Person:
    """The child, still a minor of that same family; otherwise the link is no longer valid."""
    person = db.get(Person, link.person_id)
    if person is None or person.family_id != link.family_id or person.is_adult:
        raise RegistrationError("health_link_invalid")
    return person


def family_links(
    db: Session, family_id: int, *, clock: Clock, settings: Settings
) -> list[dict[str, object]]:
    """One link per child of the family (the bot shows them on the web chat)."""
    family = db.get(Family, family_id)
    if family is None:
        raise RegistrationError("not_found")
    links: list[dict[str, object]] = []
    for person in family.members:
        if person.is_adult:
            continue
        token, expires_at = mint(person, clock=clock, settings=settings)
        links.append(
            {
                "child_id": person.id,
                "first_name": person.first_name,
                "url": url(settings, token),
                "expires_at": expires_at.isoformat(),
                "complete": is_complete_record(person.health),
            }
        )
    return links
