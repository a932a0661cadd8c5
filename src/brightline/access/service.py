"""Create, list, revoke and verify API keys. The caller owns the transaction."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from brightline.access.models import ApiKey, Role
from brightline.errors import InvalidInput, NotFound
from brightline.storage.base import utcnow

KEY_PREFIX = "bl_"
"""Every key starts with this, so secret scanners and people can recognise one."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: an API key (or an allow-listed network for HMA drop-in use)."""

    key_id: int | None
    name: str
    roles: frozenset[Role]

    def has_any(self, roles: Iterable[Role]) -> bool:
        return Role.ADMIN in self.roles or any(role in self.roles for role in roles)


def digest_of(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_roles(values: Iterable[str]) -> frozenset[Role]:
    roles = set()
    for value in values:
        for part in value.split(","):
            name = part.strip().lower()
            if not name:
                continue
            try:
                roles.add(Role(name))
            except ValueError:
                known = ", ".join(role.value for role in Role)
                raise InvalidInput(f"unknown role {name!r} (known: {known})") from None
    if not roles:
        raise InvalidInput("an API key needs at least one role")
    return frozenset(roles)


def create_api_key(*, session: Session, name: str, roles: Iterable[Role]) -> tuple[ApiKey, str]:
    """Store a new key and return it with its secret, which is shown once and never again."""
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput("an API key needs a name of 1 to 200 characters")
    role_set = frozenset(roles)
    if not role_set:
        raise InvalidInput("an API key needs at least one role")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        name=name,
        prefix=secret[:10],
        digest=digest_of(secret),
        roles=",".join(sorted(role.value for role in role_set)),
    )
    session.add(key)
    session.flush()
    return key, secret


def list_api_keys(*, session: Session, include_revoked: bool = False) -> list[ApiKey]:
    query = select(ApiKey).order_by(ApiKey.id)
    if not include_revoked:
        query = query.where(ApiKey.revoked_at.is_(None))
    return list(session.scalars(query))


def revoke_api_key(*, session: Session, key_id: int) -> ApiKey:
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFound(f"no API key with id {key_id}")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    return key


def authenticate_api_key(*, session: Session, secret: str) -> Principal | None:
    """The principal for ``secret``, or None if it is unknown or revoked."""
    if not secret.startswith(KEY_PREFIX) or len(secret) > 200:
        return None
    key = session.scalar(select(ApiKey).where(ApiKey.digest == digest_of(secret)))
    if key is None or key.revoked_at is not None:
        return None
    return Principal(key_id=key.id, name=key.name, roles=key.role_set)
