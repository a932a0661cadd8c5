"""Bank service: plain functions over a caller-owned session.

No function here commits: the caller (CLI command, API request, test) owns the transaction, so an
import that fails half-way is rolled back by the caller and nothing half-imported is stored.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import cast

from sqlalchemy import ColumnElement, Table, and_, false, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from brightline.banks.models import (
    Bank,
    BankEntry,
    EntryChange,
    IndustryClassification,
    VideoSignature,
)
from brightline.banks.records import EntryRecord, InvalidRecord
from brightline.errors import Conflict, ImportFailed, InvalidInput, NotFound
from brightline.signals.registry import SignalTypeRegistry
from brightline.signals.video import VideoHash, decode_video_hash, encode_video_hash
from brightline.storage.locks import serialize_entry_writes

BANK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.\-]{0,199}")
IMPORT_BATCH_SIZE = 2000
VIDEO_SIGNAL = "vpdq"
_TEXT_LIMITS = {"external_id": 200, "series": 200, "list_name": 200, "category": 40}


def _check_bank_name(name: str) -> str:
    if not BANK_NAME.fullmatch(name) or name != name.strip():
        raise InvalidInput(
            "bank names are 1-200 characters: letters, digits, space, '_', '.', '-', "
            "starting with a letter or digit"
        )
    return name


def _check_description(description: str) -> str:
    """PostgreSQL cannot store NUL in text (SQLite can): refuse it on both, the same way."""
    if "\x00" in description:
        raise InvalidInput("the description contains a NUL character")
    return description


def _check_threshold(threshold: int) -> int:
    if not 0 <= threshold <= 63:
        raise InvalidInput(f"PDQ threshold must be between 0 and 63, got {threshold}")
    return threshold


def create_bank(
    *, session: Session, name: str, description: str = "", pdq_threshold: int = 31
) -> Bank:
    _check_bank_name(name)
    _check_threshold(pdq_threshold)
    if bank_exists(session=session, name=name):
        raise Conflict(f"a bank named {name!r} already exists")
    bank = Bank(
        name=name,
        description=_check_description(description),
        pdq_threshold=pdq_threshold,
        enabled=True,
    )
    session.add(bank)
    session.flush()
    return bank


def list_banks(*, session: Session) -> list[Bank]:
    return list(session.scalars(select(Bank).order_by(Bank.name)))


def get_bank(*, session: Session, name: str) -> Bank:
    bank = session.scalar(select(Bank).where(Bank.name == name))
    if bank is None:
        raise NotFound(f"no bank named {name!r}")
    return bank


def bank_exists(*, session: Session, name: str) -> bool:
    return session.scalar(select(Bank.id).where(Bank.name == name)) is not None


def rename_bank(*, session: Session, name: str, new_name: str) -> Bank:
    bank = get_bank(session=session, name=name)
    _check_bank_name(new_name)
    if new_name != name and bank_exists(session=session, name=new_name):
        raise Conflict(f"a bank named {new_name!r} already exists")
    bank.name = new_name
    session.flush()
    return bank


def update_bank(
    *,
    session: Session,
    name: str,
    enabled: bool | None = None,
    pdq_threshold: int | None = None,
    description: str | None = None,
) -> Bank:
    """Change a bank's settings. A disabled bank stops matching at once (checked per match)."""
    bank = get_bank(session=session, name=name)
    if enabled is not None:
        bank.enabled = enabled
    if pdq_threshold is not None:
        bank.pdq_threshold = _check_threshold(pdq_threshold)
    if description is not None:
        bank.description = _check_description(description)
    session.flush()
    return bank


def delete_bank(*, session: Session, name: str) -> int:
    """Delete a bank and its entries; returns how many entries went with it."""
    bank = get_bank(session=session, name=name)
    serialize_entry_writes(session)
    count = session.scalar(select(func.count()).where(BankEntry.bank_id == bank.id)) or 0
    # Tell incremental indexes that these entries are gone, in one statement.
    session.execute(
        insert(EntryChange).from_select(
            ["entry_id", "signal_type", "enabled", "changed_at"],
            select(BankEntry.id, BankEntry.signal_type, false(), func.now()).where(
                BankEntry.bank_id == bank.id, BankEntry.enabled.is_(True)
            ),
        )
    )
    session.delete(bank)
    session.flush()
    return count


@dataclass
class ImportReport:
    """What an import did. ``skipped`` is filled only with ``skip_invalid``."""

    added: int = 0
    unchanged: int = 0
    disabled: int = 0
    skipped: list[InvalidRecord] = field(default_factory=list)


def _clean_text(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if "\x00" in value:
        raise InvalidInput(f"{name} contains a NUL character")
    limit = _TEXT_LIMITS.get(name)
    if limit is not None and len(value) > limit:
        raise InvalidInput(f"{name} longer than {limit} characters")
    return value


def _row_for(
    record: EntryRecord, *, bank_id: int, registry: SignalTypeRegistry, list_name: str | None
) -> dict[str, object]:
    """Validate one record into a row, raising InvalidInput with the reason."""
    signal_type = registry.get(record.signal_type.strip().lower()) if record.signal_type else None
    if signal_type is None:
        raise InvalidInput("missing signal type")
    classification = None
    if record.classification and record.classification.strip():
        raw = record.classification.strip().upper()
        try:
            classification = IndustryClassification(raw).value
        except ValueError:
            raise InvalidInput(
                f"unknown classification {raw!r} (expected A1, A2, B1 or B2)"
            ) from None
    value = signal_type.normalize(record.value)
    payload = None
    if signal_type.name == VIDEO_SIGNAL:
        # The frame list is stored beside the entry; the value is its digest (see VideoSignature).
        payload = decode_video_hash(value)
        value = hashlib.sha256(payload.to_bytes()).hexdigest()
    return {
        "_video": payload,
        "bank_id": bank_id,
        "signal_type": signal_type.name,
        "signal_version": signal_type.version,
        "value": value,
        "classification": classification,
        "category": _clean_text("category", record.category),
        "list_name": _clean_text("list_name", record.list_name or list_name),
        "external_id": _clean_text("external_id", record.external_id),
        "series": _clean_text("series", record.series),
        "note": _clean_text("note", record.note),
        "enabled": True,
    }


def _insert_ignoring_duplicates(session: Session, rows: list[dict[str, object]]) -> int:
    """Insert rows, skipping ones already stored; returns how many were new.

    Core inserts (no ORM unit of work) with ON CONFLICT DO NOTHING. SQLite's driver reports the
    number of inserted rows of an executemany; psycopg does not, so PostgreSQL counts RETURNING.
    """
    if not rows:
        return 0
    table = cast(Table, BankEntry.__table__)
    conflict = ["signal_type", "value", "bank_id"]
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        stmt = sqlite.insert(table).on_conflict_do_nothing(index_elements=conflict)
        return int(session.execute(stmt, rows).rowcount)  # type: ignore[attr-defined]
    if dialect == "postgresql":
        returning = (
            postgresql.insert(table)
            .on_conflict_do_nothing(index_elements=conflict)
            .returning(table.c.id)
        )
        return len(session.execute(returning, rows).all())
    raise InvalidInput(f"unsupported database dialect {dialect!r}")


def _apply_deletion(
    session: Session, *, bank_id: int, record: EntryRecord, registry: SignalTypeRegistry
) -> int:
    """Disable what a list withdrew: by value when given, else every entry with the external id."""
    conditions = [BankEntry.bank_id == bank_id, BankEntry.enabled.is_(True)]
    if record.value:
        signal_type = registry.get(record.signal_type.strip().lower())
        conditions += [
            BankEntry.signal_type == signal_type.name,
            BankEntry.value == signal_type.normalize(record.value),
        ]
    elif record.external_id:
        conditions.append(BankEntry.external_id == record.external_id.strip())
    else:
        raise InvalidInput("a deletion names neither a hash nor an external id")
    return _set_entries_enabled(session, and_(*conditions), enabled=False)


def _set_entries_enabled(session: Session, condition: ColumnElement[bool], *, enabled: bool) -> int:
    ids_and_types = session.execute(
        select(BankEntry.id, BankEntry.signal_type).where(condition)
    ).all()
    if not ids_and_types:
        return 0
    ids = [row.id for row in ids_and_types]
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        session.execute(update(BankEntry).where(BankEntry.id.in_(chunk)).values(enabled=enabled))
    session.execute(
        insert(EntryChange),
        [
            {"entry_id": row.id, "signal_type": row.signal_type, "enabled": enabled}
            for row in ids_and_types
        ],
    )
    return len(ids)


def import_records(
    *,
    session: Session,
    bank_name: str,
    records: Iterable[EntryRecord | InvalidRecord],
    registry: SignalTypeRegistry,
    source: str,
    skip_invalid: bool = False,
    list_name: str | None = None,
) -> ImportReport:
    """Stream records into a bank in batches.

    Idempotent (an entry already in the bank is counted as unchanged), and all-or-nothing unless
    ``skip_invalid``: the first bad record raises :class:`ImportFailed` naming ``source`` and the
    line, and the caller rolls back. Memory stays bounded by the batch size.
    """
    bank = get_bank(session=session, name=bank_name)
    serialize_entry_writes(session)
    report = ImportReport()
    iterator: Iterator[EntryRecord | InvalidRecord] = iter(records)

    def reject(line: int, reason: str) -> None:
        if not skip_invalid:
            raise ImportFailed(source, line, reason)
        report.skipped.append(InvalidRecord(line=line, reason=reason))

    while batch := list(islice(iterator, IMPORT_BATCH_SIZE)):
        rows: list[dict[str, object]] = []
        for record in batch:
            if isinstance(record, InvalidRecord):
                reject(record.line, record.reason)
                continue
            try:
                if record.delete:
                    # Flush pending inserts first so a withdrawal later in the file wins.
                    _flush_rows(session, rows, report)
                    rows = []
                    report.disabled += _apply_deletion(
                        session, bank_id=bank.id, record=record, registry=registry
                    )
                    continue
                rows.append(
                    _row_for(record, bank_id=bank.id, registry=registry, list_name=list_name)
                )
            except (InvalidInput, NotFound) as exc:
                reject(record.line, str(exc))
        _flush_rows(session, rows, report)
    return report


def _flush_rows(session: Session, rows: list[dict[str, object]], report: ImportReport) -> None:
    plain: list[dict[str, object]] = []
    added = 0
    for row in rows:
        video = row.pop("_video")
        if isinstance(video, VideoHash):
            added += _insert_video(session, row, video)
        else:
            plain.append(row)
    added += _insert_ignoring_duplicates(session, plain)
    report.added += added
    report.unchanged += len(rows) - added


def _insert_video(session: Session, row: dict[str, object], video: VideoHash) -> int:
    """Insert one vpdq entry and its frames; 0 when the bank already has it."""
    table = cast(Table, BankEntry.__table__)
    conflict = ["signal_type", "value", "bank_id"]
    insert_row = (
        postgresql.insert(table)
        if session.get_bind().dialect.name == "postgresql"
        else sqlite.insert(table)
    )
    entry_id = session.scalar(
        insert_row.on_conflict_do_nothing(index_elements=conflict).returning(table.c.id), row
    )
    if entry_id is None:
        return 0
    session.add(
        VideoSignature(
            entry_id=entry_id,
            frames=video.to_bytes(),
            frame_count=len(video.frames),
            duration=video.duration,
        )
    )
    session.flush()
    return 1


def add_signals(
    *,
    session: Session,
    bank_name: str,
    records: Iterable[EntryRecord],
    registry: SignalTypeRegistry,
) -> ImportReport:
    """Add already-validated records (e.g. hashes just computed from media files)."""
    return import_records(
        session=session,
        bank_name=bank_name,
        records=records,
        registry=registry,
        source="<media>",
    )


def set_entries_enabled(
    *,
    session: Session,
    bank_name: str,
    enabled: bool,
    registry: SignalTypeRegistry,
    signal_type: str | None = None,
    value: str | None = None,
    external_id: str | None = None,
) -> int:
    """Enable or disable entries by hash value or external id; returns how many changed.

    Disabling instead of deleting keeps provenance (and lets a withdrawn hash be restored).
    """
    bank = get_bank(session=session, name=bank_name)
    serialize_entry_writes(session)
    conditions = [BankEntry.bank_id == bank.id, BankEntry.enabled.is_(not enabled)]
    if value is not None:
        if signal_type is None:
            raise InvalidInput("give the signal type of the value")
        kind = registry.get(signal_type)
        conditions += [BankEntry.signal_type == kind.name, BankEntry.value == kind.normalize(value)]
    elif external_id is not None:
        if "\x00" in external_id:
            raise InvalidInput("the external id contains a NUL character")
        conditions.append(BankEntry.external_id == external_id)
    else:
        raise InvalidInput("name the entries: a value or an external id")
    return _set_entries_enabled(session, and_(*conditions), enabled=enabled)


def set_entry_enabled_by_id(*, session: Session, entry_id: int, enabled: bool) -> bool:
    """Enable or disable one entry by id (the flood guard's quarantine and release); True if it
    changed. Written to the change log like every other enable/disable, so indexes follow."""
    serialize_entry_writes(session)
    condition = and_(BankEntry.id == entry_id, BankEntry.enabled.is_(not enabled))
    return _set_entries_enabled(session, condition, enabled=enabled) == 1


def iter_entries(
    *,
    session: Session,
    bank_name: str,
    signal_type: str | None = None,
    include_disabled: bool = False,
) -> Iterator[EntryRecord]:
    """Stream a bank's entries as records (for export), in id order.

    The bank is looked up now (so a wrong name fails before any output is written); the entries
    are read lazily in chunks.
    """
    bank = get_bank(session=session, name=bank_name)
    query = select(BankEntry).where(BankEntry.bank_id == bank.id).order_by(BankEntry.id)
    if signal_type is not None:
        query = query.where(BankEntry.signal_type == signal_type)
    if not include_disabled:
        query = query.where(BankEntry.enabled.is_(True))
    return _records_of(session, session.scalars(query.execution_options(yield_per=5000)))


def _records_of(session: Session, entries: Iterable[BankEntry]) -> Iterator[EntryRecord]:
    for number, entry in enumerate(entries, start=1):
        value = entry.value
        if entry.signal_type == VIDEO_SIGNAL:
            frames = session.scalar(
                select(VideoSignature.frames).where(VideoSignature.entry_id == entry.id)
            )
            if frames is None:
                continue  # an entry without its frames cannot be exported meaningfully
            value = encode_video_hash(VideoHash.from_bytes(frames))
        yield EntryRecord(
            signal_type=entry.signal_type,
            value=value,
            classification=entry.classification,
            external_id=entry.external_id,
            series=entry.series,
            note=entry.note,
            category=entry.category,
            list_name=entry.list_name,
            line=number,
        )


@dataclass(frozen=True)
class BankStats:
    name: str
    enabled: bool
    pdq_threshold: int
    by_signal_type: dict[str, tuple[int, int]]
    """signal type → (enabled entries, disabled entries)."""
    by_classification: dict[str, int]

    @property
    def total(self) -> int:
        return sum(on + off for on, off in self.by_signal_type.values())


def bank_stats(*, session: Session, bank_name: str) -> BankStats:
    bank = get_bank(session=session, name=bank_name)
    by_type: dict[str, tuple[int, int]] = {}
    rows = session.execute(
        select(BankEntry.signal_type, BankEntry.enabled, func.count())
        .where(BankEntry.bank_id == bank.id)
        .group_by(BankEntry.signal_type, BankEntry.enabled)
    ).all()
    for signal_type, enabled, count in rows:
        on, off = by_type.get(signal_type, (0, 0))
        by_type[signal_type] = (on + count, off) if enabled else (on, off + count)
    by_class = {
        (classification or "unclassified"): count
        for classification, count in session.execute(
            select(BankEntry.classification, func.count())
            .where(BankEntry.bank_id == bank.id, BankEntry.enabled.is_(True))
            .group_by(BankEntry.classification)
        ).all()
    }
    return BankStats(
        name=bank.name,
        enabled=bank.enabled,
        pdq_threshold=bank.pdq_threshold,
        by_signal_type=by_type,
        by_classification=by_class,
    )


def entries_by_ids(*, session: Session, ids: Iterable[int]) -> dict[int, tuple[BankEntry, Bank]]:
    """Fetch entries (with their bank) that are enabled in an enabled bank, keyed by id."""
    wanted = list(ids)
    found: dict[int, tuple[BankEntry, Bank]] = {}
    for start in range(0, len(wanted), 5000):
        chunk = wanted[start : start + 5000]
        for entry, bank in session.execute(
            select(BankEntry, Bank)
            .join(Bank, Bank.id == BankEntry.bank_id)
            .where(BankEntry.id.in_(chunk), BankEntry.enabled.is_(True), Bank.enabled.is_(True))
        ):
            found[entry.id] = (entry, bank)
    return found


def exact_matches(
    *, session: Session, signals: Iterable[tuple[str, str]]
) -> list[tuple[BankEntry, Bank]]:
    """Enabled entries in enabled banks whose (signal type, value) equals one given."""
    pairs = list(signals)
    if not pairs:
        return []
    condition = or_(*(and_(BankEntry.signal_type == t, BankEntry.value == v) for t, v in pairs))
    rows = session.execute(
        select(BankEntry, Bank)
        .join(Bank, Bank.id == BankEntry.bank_id)
        .where(condition, BankEntry.enabled.is_(True), Bank.enabled.is_(True))
        .order_by(BankEntry.id)
    )
    return [(entry, bank) for entry, bank in rows]
