"""Sample review cases and accounts for the demo, so the console can be opened on real flow.

Some altered stand-in copies are "uploaded" by synthetic platform users: hashed, matched against
the demo bank, recorded in the match log, stored in the evidence vault and flagged into review,
exactly as ``POST /v1/match/file`` with a subject does. Accounts get fresh random passwords on
every run (shown once by the CLI and kept in an owner-only file under the demo data).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from brightline.accounts import AccountRole, change_password, create_account, unlock
from brightline.accounts.models import Account
from brightline.evidence import EvidenceStore
from brightline.index import PDQIndex
from brightline.matching.indexes import MatchIndexes
from brightline.matching.service import MatchResult, match_content
from brightline.matchlog import MatchEvent, MatchSource, record_matches
from brightline.review.flagging import ContentFacts, SubjectRef, flag_from_match_events
from brightline.review.models import Subject
from brightline.settings import Settings
from brightline.signals import HashedContent, HashingLimits, hash_content
from brightline.signals.registry import SignalTypeRegistry
from brightline.storage.base import utcnow

DEMO_SERVICE = "demo-service"
DEMO_ACCOUNTS = (
    ("demo-admin", AccountRole.ADMIN),
    ("demo-lead", AccountRole.LEAD),
    ("demo-reviewer", AccountRole.REVIEWER),
    ("demo-auditor", AccountRole.AUDITOR),
)
ACCOUNTS_FILE = "console-accounts.txt"


@dataclass
class ConsoleSeed:
    passwords: dict[str, str] = field(default_factory=dict)
    flagged: int = 0
    cases: int = 0
    accounts_file: Path | None = None


def _accounts(session: Session) -> dict[str, str]:
    """Create the demo accounts, or give existing ones a new password."""
    passwords = {}
    for name, role in DEMO_ACCOUNTS:
        password = secrets.token_urlsafe(12)
        exists = session.scalar(select(Account.id).where(Account.username == name))
        if exists is None:
            create_account(
                session=session, username=name, password=password, role=role, actor="demo"
            )
        else:
            change_password(session=session, username=name, new_password=password, actor="demo")
            unlock(session=session, username=name, actor="demo")
        passwords[name] = password
    return passwords


def seed_console(
    *,
    sessions: sessionmaker[Session],
    settings: Settings,
    registry: SignalTypeRegistry,
    uploads: list[Path],
    users: int = 4,
) -> ConsoleSeed:
    """Flag ``uploads`` (altered stand-ins) for ``users`` synthetic users, once per database.

    A database that already holds review subjects is left as it is (a second ``make demo`` does
    not pile up duplicate cases); only the account passwords are renewed.
    """
    seed = ConsoleSeed()
    limits = HashingLimits.from_settings(settings)
    evidence = EvidenceStore.from_settings(settings)
    with sessions.begin() as session:
        seed.passwords = _accounts(session)
        if session.scalar(select(func.count()).select_from(Subject)):
            seed.cases = -1
            return _write_accounts(seed, settings)
        indexes = MatchIndexes.open(session=session, index_dir=settings.index_dir)
        for number, path in enumerate(uploads):
            data = path.read_bytes()
            content = hash_content(data, limits=limits, registry=registry)

            def lookup(
                images: PDQIndex, videos: PDQIndex, content: HashedContent = content
            ) -> MatchResult:
                return match_content(
                    session=session,
                    content=content,
                    registry=registry,
                    pdq_index=images,
                    video_index=videos,
                    quality_threshold=settings.pdq_quality_threshold,
                )

            result = indexes.read(lookup)
            if not result.matches:
                continue
            digests = {s.signal_type: s.value for s in content.signals}
            event_ids = record_matches(
                session=session,
                matches=result.matches,
                source=MatchSource.UPLOAD,
                content_sha256=digests["sha256"],
            )
            events = list(session.scalars(select(MatchEvent).where(MatchEvent.id.in_(event_ids))))
            user = number % users + 1
            flag_from_match_events(
                session=session,
                subject=SubjectRef(
                    service=DEMO_SERVICE,
                    platform_user_id=f"demo-user-{user:03d}",
                    screen_name=f"placeholder_user_{user}",
                ),
                content=ContentFacts(
                    sha256=digests["sha256"],
                    md5=digests.get("md5"),
                    sha1=digests.get("sha1"),
                    pdq=digests.get("pdq"),
                    media_type=content.media_type or "application/octet-stream",
                    media_ref=evidence.put(data),
                    uploaded_at=utcnow(),
                ),
                events=events,
            )
            seed.flagged += 1
        seed.cases = min(users, seed.flagged)
    return _write_accounts(seed, settings)


def _write_accounts(seed: ConsoleSeed, settings: Settings) -> ConsoleSeed:
    path = settings.home / "demo" / ACCOUNTS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text("".join(f"{name} {password}\n" for name, password in seed.passwords.items()))
    seed.accounts_file = path
    return seed
