"""The flood guard: quarantine an entry that suddenly matches far more than it used to.

A common, harmless image listed by mistake (a logo, a meme, a stock photo) does not match now and
then like a real entry: it matches everything, at once. Each match adds to the entry's count for
the current hour; when that count exceeds ``max(floor, factor * the entry's mean hourly count over
the baseline window)`` the entry is disabled through the bank service (so every index drops it),
a quarantine row records when and why, and an ``entry.quarantined`` event tells the curators. It
all happens in the transaction of the match that tripped it.

A steady, high-volume entry is not quarantined: its own baseline is high. A released entry is
not quarantined again for one baseline window: by then the spike a curator vouched for is part of
its baseline.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from brightline.banks.models import Bank, BankEntry
from brightline.banks.service import set_entry_enabled_by_id
from brightline.errors import InvalidInput, NotFound
from brightline.events.models import EntryMatchCount, EntryQuarantine, EventType
from brightline.events.outbox import enqueue_event
from brightline.settings import FloodGuardSettings
from brightline.storage.base import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Quarantined:
    """A quarantine with the entry and bank it concerns (for listing)."""

    quarantine: EntryQuarantine
    entry: BankEntry
    bank: Bank


def hour_of(moment: datetime) -> datetime:
    """The start of the UTC hour holding ``moment``."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _add_to_hour(session: Session, entry_id: int, hour: datetime, matches: int) -> int:
    """Add ``matches`` to the entry's count for ``hour`` (an upsert); returns the new count."""
    table = cast(Table, EntryMatchCount.__table__)
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        pg_insert = postgresql.insert(table).values(entry_id=entry_id, hour=hour, count=matches)
        stmt: Any = pg_insert.on_conflict_do_update(
            index_elements=["entry_id", "hour"],
            set_={"count": table.c.count + pg_insert.excluded.count},
        )
    elif dialect == "sqlite":
        lite_insert = sqlite.insert(table).values(entry_id=entry_id, hour=hour, count=matches)
        stmt = lite_insert.on_conflict_do_update(
            index_elements=["entry_id", "hour"],
            set_={"count": table.c.count + lite_insert.excluded.count},
        )
    else:
        raise InvalidInput(f"unsupported database dialect {dialect!r}")
    return int(session.scalar(stmt.returning(table.c.count)))


def baseline_per_hour(
    *, session: Session, entry_id: int, hour: datetime, settings: FloodGuardSettings
) -> float:
    """Mean matches per hour over the window before ``hour``; hours without matches count 0.

    An entry added recently therefore has a low baseline, which the floor covers.
    """
    hours = settings.baseline_days * 24
    total = session.scalar(
        select(func.coalesce(func.sum(EntryMatchCount.count), 0)).where(
            EntryMatchCount.entry_id == entry_id,
            EntryMatchCount.hour >= hour - timedelta(hours=hours),
            EntryMatchCount.hour < hour,
        )
    )
    return float(total or 0) / hours


def count_matches(
    *,
    session: Session,
    matches_by_entry: Mapping[int, int],
    now: datetime,
    settings: FloodGuardSettings,
) -> list[EntryQuarantine]:
    """Count this transaction's matches per entry; quarantine the entries that trip the guard.

    Entries are counted in id order so that concurrent transactions lock the count rows in the
    same order (no deadlock on PostgreSQL). Returns the quarantines created.
    """
    if not settings.enabled or not matches_by_entry:
        return []
    hour = hour_of(now)
    created = []
    for entry_id, matches in sorted(matches_by_entry.items()):
        count = _add_to_hour(session, entry_id, hour, matches)
        if count <= settings.floor:
            continue  # the common case: no baseline query at all
        baseline = baseline_per_hour(
            session=session, entry_id=entry_id, hour=hour, settings=settings
        )
        threshold = max(float(settings.floor), settings.factor * baseline)
        if count > threshold:
            quarantine = _quarantine(
                session,
                entry_id=entry_id,
                count=count,
                baseline=baseline,
                threshold=threshold,
                now=now,
                settings=settings,
            )
            if quarantine is not None:
                created.append(quarantine)
    return created


def _quarantine(
    session: Session,
    *,
    entry_id: int,
    count: int,
    baseline: float,
    threshold: float,
    now: datetime,
    settings: FloodGuardSettings,
) -> EntryQuarantine | None:
    """Disable the entry, record why and notify; None if it is already handled."""
    recent = session.scalar(
        select(EntryQuarantine.id).where(
            EntryQuarantine.entry_id == entry_id,
            (EntryQuarantine.released_at.is_(None))
            | (EntryQuarantine.released_at >= now - timedelta(days=settings.baseline_days)),
        )
    )
    if recent is not None:
        return None  # quarantined already, or released lately by a curator who vouched for it
    row = session.execute(
        select(BankEntry, Bank)
        .join(Bank, Bank.id == BankEntry.bank_id)
        .where(BankEntry.id == entry_id)
    ).first()
    if row is None or not row[0].enabled:
        return None  # deleted or disabled meanwhile: it no longer matches anyway
    entry, bank = row
    if not set_entry_enabled_by_id(session=session, entry_id=entry_id, enabled=False):
        return None
    reason = (
        f"{count} matches in the hour from {hour_of(now).isoformat()}; "
        f"baseline {baseline:.2f}/hour over {settings.baseline_days} days; "
        f"threshold {threshold:g}"
    )
    quarantine = EntryQuarantine(
        entry_id=entry_id,
        quarantined_at=now,
        hour_count=count,
        baseline=baseline,
        threshold=threshold,
        reason=reason,
    )
    session.add(quarantine)
    session.flush()
    enqueue_event(
        session,
        EventType.ENTRY_QUARANTINED,
        {
            "quarantine_id": quarantine.id,
            "bank": bank.name,
            "bank_id": bank.id,
            "entry_id": entry.id,
            "signal_type": entry.signal_type,
            "value": entry.value,
            "hour_count": count,
            "baseline_per_hour": round(baseline, 4),
            "threshold": threshold,
            "quarantined_at": now.isoformat().replace("+00:00", "Z"),
        },
        key=f"quarantine-{quarantine.id}",
        now=now,
    )
    log.warning(
        "flood guard quarantined entry %d of bank %r: %d matches this hour, baseline %.2f/hour",
        entry.id,
        bank.name,
        count,
        baseline,
    )
    return quarantine


def list_quarantined(*, session: Session, include_released: bool = False) -> list[Quarantined]:
    """Quarantines, newest first: by default only those still awaiting a curator."""
    query = (
        select(EntryQuarantine, BankEntry, Bank)
        .join(BankEntry, BankEntry.id == EntryQuarantine.entry_id)
        .join(Bank, Bank.id == BankEntry.bank_id)
        .order_by(EntryQuarantine.id.desc())
    )
    if not include_released:
        query = query.where(EntryQuarantine.released_at.is_(None))
    return [Quarantined(q, e, b) for q, e, b in session.execute(query)]


def release_entry(*, session: Session, entry_id: int, now: datetime | None = None) -> None:
    """A curator's verdict that a quarantined entry is correct: enable it again.

    Raises :class:`NotFound` when the entry is not in quarantine.
    """
    quarantine = session.scalar(
        select(EntryQuarantine).where(
            EntryQuarantine.entry_id == entry_id, EntryQuarantine.released_at.is_(None)
        )
    )
    if quarantine is None:
        raise NotFound(f"entry {entry_id} is not in quarantine")
    set_entry_enabled_by_id(session=session, entry_id=entry_id, enabled=True)
    session.execute(
        update(EntryQuarantine)
        .where(EntryQuarantine.id == quarantine.id)
        .values(released_at=now or utcnow())
    )
    session.expire(quarantine)


def prune_counts(*, session: Session, before: datetime) -> int:
    """Delete hourly counts older than ``before`` (they are outside every baseline window)."""
    result = session.execute(delete(EntryMatchCount).where(EntryMatchCount.hour < before))
    return int(result.rowcount)  # type: ignore[attr-defined]
