"""Local accounts: create, sign in (with lockout), sessions, one-time form keys, preferences.

Functions take the caller's session and never commit. Every change to an account or to an
organisation setting writes a ``setting_change`` row to the review audit log in the same
transaction, with ids and setting names only (never a password, never user text); so does
each sign-in and lockout.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from brightline.accounts import wellness
from brightline.accounts.models import (
    Account,
    AccountRole,
    AccountSession,
    OrgSetting,
    UsedFormKey,
)
from brightline.errors import BrightlineError, Conflict, InvalidInput, NotFound
from brightline.review.audit import AuditAction, audit
from brightline.review.upserts import insert_ignoring_conflict
from brightline.storage.base import utcnow

log = logging.getLogger(__name__)

MAX_FAILED_ATTEMPTS = 5
"""Failed sign-ins in a row after which an account is locked."""
LOCKOUT = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=12)
"""A session ends this long after sign-in, however active."""
SESSION_IDLE = timedelta(minutes=30)
"""... or after this long without a request."""
MIN_PASSWORD = 12
MAX_PASSWORD = 1024
FORM_KEY_RETENTION = timedelta(days=2)
WELLNESS_KEY = "wellness"
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._\-]{1,63}")
_FORM_KEY = re.compile(r"[A-Za-z0-9_\-]{16,64}")
_hasher = PasswordHasher()
SIGN_IN_ACTOR = "console:sign-in"
"""Who a lockout is recorded as done by: the sign-in check, not a person (never a username,
which cannot hold ':')."""


class SignInRefused(BrightlineError):
    """Wrong name or password, or a locked or disabled account: deliberately one message, so
    the answer does not tell a guesser which names exist or which accounts are locked."""

    def __init__(self) -> None:
        super().__init__(
            "sign-in failed: wrong username or password, or the account is locked or disabled "
            f"(after {MAX_FAILED_ATTEMPTS} failures an account is locked for "
            f"{int(LOCKOUT.total_seconds() // 60)} minutes)"
        )


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash to verify against for unknown names, so they cost as long as known ones."""
    return _hasher.hash(secrets.token_urlsafe(16))


def check_username(username: str) -> str:
    name = username.strip().lower()
    if not _USERNAME.fullmatch(name) or name.startswith("policy"):
        raise InvalidInput(
            "a username is 2 to 64 lowercase letters, digits, '.', '_' or '-', "
            "starting with a letter or digit (not 'policy...')"
        )
    return name


def check_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidInput(f"a password is {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return password


def parse_role(value: str) -> AccountRole:
    try:
        return AccountRole(value.strip().lower())
    except ValueError:
        known = ", ".join(role.value for role in AccountRole)
        raise InvalidInput(f"unknown role {value!r} (known: {known})") from None


def get_account(*, session: Session, username: str) -> Account:
    account = session.scalar(select(Account).where(Account.username == username.strip().lower()))
    if account is None:
        raise NotFound(f"no account named {username.strip().lower()!r}")
    return account


def list_accounts(*, session: Session) -> list[Account]:
    return list(session.scalars(select(Account).order_by(Account.username)))


def _audit_account(
    session: Session, actor: str, account_id: int, setting: str, now: datetime, **detail: Any
) -> None:
    audit(
        session=session,
        actor=actor,
        action=AuditAction.SETTING_CHANGE,
        object_type="account",
        object_id=account_id,
        detail={"setting": setting, **detail},
        at=now,
    )


def create_account(
    *,
    session: Session,
    username: str,
    password: str,
    role: AccountRole,
    actor: str,
    now: datetime | None = None,
) -> Account:
    """A new account; Conflict if the name is taken."""
    now = now or utcnow()
    name = check_username(username)
    check_password(password)
    role = parse_role(role)
    if session.scalar(select(Account.id).where(Account.username == name)) is not None:
        raise Conflict(f"an account named {name!r} already exists")
    account = Account(
        username=name,
        password_hash=_hasher.hash(password),
        role=role.value,
        created_at=now,
        password_changed_at=now,
    )
    session.add(account)
    session.flush()
    _audit_account(session, actor, account.id, "account_created", now, role=role.value)
    return account


def _end_sessions(session: Session, account_id: int) -> None:
    session.execute(delete(AccountSession).where(AccountSession.account_id == account_id))


def set_disabled(
    *, session: Session, username: str, disabled: bool, actor: str, now: datetime | None = None
) -> Account:
    """Disable (ending every session at once) or re-enable an account."""
    now = now or utcnow()
    account = get_account(session=session, username=username)
    account.disabled = disabled
    if disabled:
        _end_sessions(session, account.id)
    session.flush()
    _audit_account(session, actor, account.id, "disabled", now, value=disabled)
    return account


def unlock(*, session: Session, username: str, actor: str, now: datetime | None = None) -> Account:
    """Lift a lockout and forget the failed attempts."""
    now = now or utcnow()
    account = get_account(session=session, username=username)
    account.locked_until = None
    account.failed_attempts = 0
    session.flush()
    _audit_account(session, actor, account.id, "unlocked", now)
    return account


def change_password(
    *,
    session: Session,
    username: str,
    new_password: str,
    actor: str,
    now: datetime | None = None,
) -> Account:
    """Set a new password and end every session of the account (sign in again everywhere)."""
    now = now or utcnow()
    check_password(new_password)
    account = get_account(session=session, username=username)
    account.password_hash = _hasher.hash(new_password)
    account.password_changed_at = now
    _end_sessions(session, account.id)
    session.flush()
    _audit_account(session, actor, account.id, "password", now)
    return account


def authenticate(
    *,
    session: Session,
    username: str,
    password: str,
    now: datetime | None = None,
    max_failed: int = MAX_FAILED_ATTEMPTS,
    lockout: timedelta = LOCKOUT,
) -> Account:
    """The account for this name and password, or :class:`SignInRefused`.

    Every refusal costs one argon2 verification, for unknown names too, and says the same
    thing. ``max_failed`` failures in a row lock the account for ``lockout``; attempts while
    locked are refused without counting (the lock does not extend itself). The failure count
    is written before raising: callers commit the transaction even when this raises, or the
    lockout would never happen.

    A sign-in and a lockout are audited (never what was typed). A refusal is not: anyone can
    send refusals without limit, and each would be a row nobody may ever delete; the lockout
    row records that refusals happened, once per lock.
    """
    now = now or utcnow()
    name = username.strip().lower()
    # A name no account can have is not looked up: PostgreSQL refuses some strings (NUL) with
    # an error, which would answer differently from an unknown name.
    account = (
        session.scalar(select(Account).where(Account.username == name))
        if _USERNAME.fullmatch(name)
        else None
    )
    stored = account.password_hash if account is not None else _dummy_hash()
    matches: bool
    try:
        matches = bool(_hasher.verify(stored, password[:MAX_PASSWORD]))
    except (VerificationError, InvalidHashError):
        matches = False
    if account is None:
        raise SignInRefused()
    locked = account.locked_until is not None and account.locked_until > now
    if account.disabled or locked:
        raise SignInRefused()
    if not matches:
        failed = session.scalar(
            update(Account)
            .where(Account.id == account.id)
            .values(failed_attempts=Account.failed_attempts + 1)
            .returning(Account.failed_attempts),
            execution_options={"synchronize_session": False},
        )
        if failed is not None and failed >= max_failed:
            session.execute(
                update(Account)
                .where(Account.id == account.id)
                .values(failed_attempts=0, locked_until=now + lockout),
                execution_options={"synchronize_session": False},
            )
            log.warning("account %s locked after %d failed sign-ins", account.id, failed)
            audit(
                session=session,
                actor=SIGN_IN_ACTOR,
                action=AuditAction.LOCKOUT,
                object_type="account",
                object_id=account.id,
                detail={
                    "failed_attempts": failed,
                    "lockout_seconds": int(lockout.total_seconds()),
                },
                at=now,
            )
        session.expire(account)
        raise SignInRefused()
    account.failed_attempts = 0
    account.locked_until = None
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = _hasher.hash(password)
    session.flush()
    audit(
        session=session,
        actor=account.username,
        action=AuditAction.SIGN_IN,
        object_type="account",
        object_id=account.id,
        at=now,
    )
    return account


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A resolved session: the account, and the CSRF token its forms must carry."""

    account_id: int
    username: str
    role: AccountRole
    csrf_token: str
    preferences: dict[str, Any]


def start_session(
    *,
    session: Session,
    account_id: int,
    now: datetime | None = None,
    lifetime: timedelta = SESSION_LIFETIME,
) -> str:
    """A new session for the account; returns the cookie token (stored only as its digest).

    Always a fresh token at sign-in, so a token planted before sign-in is worthless. Expired
    sessions and old form keys are cleared here, where it costs nobody a wait.
    """
    now = now or utcnow()
    session.execute(delete(AccountSession).where(AccountSession.expires_at <= now))
    session.execute(delete(UsedFormKey).where(UsedFormKey.used_at <= now - FORM_KEY_RETENTION))
    token = secrets.token_urlsafe(32)
    session.add(
        AccountSession(
            token_digest=_digest(token),
            account_id=account_id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime,
        )
    )
    session.flush()
    return token


def resolve_session(
    *, session: Session, token: str, now: datetime | None = None, idle: timedelta = SESSION_IDLE
) -> SignedIn | None:
    """Who holds this cookie token; None if the session is unknown, expired, idle too long, or
    the account was disabled since."""
    now = now or utcnow()
    if not token or len(token) > 100:
        return None
    row = session.get(AccountSession, _digest(token))
    if row is None:
        return None
    account = session.get(Account, row.account_id)
    if row.expires_at <= now or row.last_seen_at + idle <= now or account is None:
        session.delete(row)
        return None
    if account.disabled:
        return None
    if now - row.last_seen_at > timedelta(seconds=30):
        row.last_seen_at = now
    return SignedIn(
        account_id=account.id,
        username=account.username,
        role=AccountRole(account.role),
        csrf_token=row.csrf_token,
        preferences=wellness.loads(account.preferences),
    )


def end_session(*, session: Session, token: str) -> None:
    session.execute(delete(AccountSession).where(AccountSession.token_digest == _digest(token)))


def use_form_key(
    *, session: Session, account_id: int, form_key: str, now: datetime | None = None
) -> None:
    """Accept a form's one-time key, or refuse a form that was already submitted."""
    if not _FORM_KEY.fullmatch(form_key):
        raise InvalidInput("the form is missing its key; reload the page and try again")
    values = {"form_key": form_key, "account_id": account_id, "used_at": now or utcnow()}
    if not insert_ignoring_conflict(session, UsedFormKey, values):
        raise Conflict(
            "this form was already submitted (a double click, a reload or a replayed request); "
            "it was not applied again"
        )


def org_wellness(*, session: Session) -> dict[str, Any]:
    row = session.get(OrgSetting, WELLNESS_KEY)
    return wellness.loads(row.value) if row is not None else {}


def wellness_for(*, session: Session, preferences: dict[str, Any]) -> wellness.Wellness:
    """What one person sees: the organisation defaults with their own overrides on top."""
    return wellness.combine(org_wellness(session=session), preferences)


def set_org_wellness(
    *, session: Session, changes: dict[str, object], actor: str, now: datetime | None = None
) -> wellness.Wellness:
    """Change organisation wellness defaults (audited, setting by setting)."""
    now = now or utcnow()
    parsed = wellness.parse_settings(changes, allowed=wellness.ORG_KEYS)
    current = org_wellness(session=session)
    merged = {**current, **parsed}
    row = session.get(OrgSetting, WELLNESS_KEY)
    if row is None:
        session.add(OrgSetting(key=WELLNESS_KEY, value=wellness.dumps(merged), updated_by=actor))
    else:
        row.value = wellness.dumps(merged)
        row.updated_by = actor
        row.updated_at = now
    session.flush()
    for key in sorted(parsed):
        if current.get(key, getattr(wellness.Wellness(), key)) != parsed[key]:
            audit(
                session=session,
                actor=actor,
                action=AuditAction.SETTING_CHANGE,
                object_type="org_setting",
                object_id=f"{WELLNESS_KEY}.{key}",
                detail={"value": parsed[key]},
                at=now,
            )
    return wellness.combine(merged, {})


def set_preferences(
    *, session: Session, account_id: int, changes: dict[str, object], now: datetime | None = None
) -> dict[str, Any]:
    """Change a person's own wellness overrides (audited, setting by setting)."""
    now = now or utcnow()
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(f"no account with id {account_id}")
    parsed = wellness.parse_settings(changes, allowed=wellness.USER_KEYS)
    current = wellness.loads(account.preferences)
    merged = {**current, **parsed}
    account.preferences = wellness.dumps(merged)
    session.flush()
    for key in sorted(parsed):
        if current.get(key) != parsed[key]:
            _audit_account(
                session, account.username, account.id, f"preference.{key}", now, value=parsed[key]
            )
    return merged


def reset_preferences(*, session: Session, account_id: int, now: datetime | None = None) -> None:
    """Back to the organisation's defaults (audited)."""
    now = now or utcnow()
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(f"no account with id {account_id}")
    account.preferences = "{}"
    session.flush()
    _audit_account(session, account.username, account.id, "preferences_reset", now)
