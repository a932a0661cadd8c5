"""Small factories for review tests: synthetic banks, subjects and content facts (random hashes)."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from brightline.banks import service as banks
from brightline.banks.models import BankEntry
from brightline.banks.records import EntryRecord
from brightline.review import ContentFacts, Flagged, FlagMatch, SubjectRef, flag_content
from brightline.signals import default_registry
from tests.factories import random_pdq

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def user(n: int, service: str = "example-service") -> SubjectRef:
    """A placeholder platform user."""
    return SubjectRef(service=service, platform_user_id=f"user-{n}", screen_name=f"placeholder{n}")


def content(seed: int, *, pdq: str | None = None, with_pdq: bool = True) -> ContentFacts:
    """Facts about a synthetic file: digests of a seed, a random PDQ unless given."""
    rng = random.Random(seed)
    return ContentFacts(
        sha256=hashlib.sha256(f"synthetic-{seed}".encode()).hexdigest(),
        md5=hashlib.md5(f"synthetic-{seed}".encode(), usedforsecurity=False).hexdigest(),
        pdq=pdq if pdq is not None else (random_pdq(rng) if with_pdq else None),
        media_type="image/jpeg",
        media_ref=f"evidence://test/{seed}",
    )


def make_bank(
    session: Session, name: str, count: int = 3, *, classification: str | None = "B2", seed: int = 1
) -> list[BankEntry]:
    """A bank of ``count`` random PDQ entries, all with ``classification``."""
    bank = banks.create_bank(session=session, name=name)
    rng = random.Random(seed)
    records = [
        EntryRecord(signal_type="pdq", value=random_pdq(rng), classification=classification, line=n)
        for n in range(count)
    ]
    banks.import_records(
        session=session,
        bank_name=name,
        records=records,
        registry=default_registry(),
        source="<test>",
    )
    return list(
        session.scalars(
            select(BankEntry).where(BankEntry.bank_id == bank.id).order_by(BankEntry.id)
        )
    )


def match(entry: BankEntry, bank: str, distance: int = 0) -> FlagMatch:
    return FlagMatch(
        signal_type=entry.signal_type,
        bank_id=entry.bank_id,
        bank_name=bank,
        entry_id=entry.id,
        distance=distance,
        classification=entry.classification,
    )


def flag(
    session: Session,
    who: int,
    seed: int,
    matches: list[FlagMatch] | None = None,
    *,
    pdq: str | None = None,
    source: str = "upload",
    priority: int = 0,
    now: datetime = NOW,
) -> Flagged:
    return flag_content(
        session=session,
        subject=user(who),
        content=content(seed, pdq=pdq),
        matches=matches or [],
        source=source,
        priority=priority,
        now=now,
    )
