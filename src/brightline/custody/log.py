"""Appending to the chain of custody and reading it back.

Every append reads the head (the entry with the highest ``seq``), chains onto it and authenticates
the new entry with the custody key. Appends are serialised (an advisory lock on PostgreSQL, the
single writer on SQLite), and the unique ``prev_hash`` and primary-key ``seq`` make any append
that still raced fail loudly instead of forking the chain.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Collection, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, Text, select, type_coerce
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from brightline.custody.entries import (
    GENESIS_HASH,
    MAX_REASON_LENGTH,
    NEEDS_REASON,
    CustodyEntry,
    DetailValue,
    canonical_json,
    check_actor,
    check_details,
    check_id,
    check_text,
    entry_hash_of,
    mac_of,
)
from brightline.custody.models import CustodyEvent, CustodyRecord
from brightline.errors import Conflict, InvalidInput, StorageError
from brightline.evidence.store import decode_key, load_or_create_key_file, parse_ref
from brightline.settings import Settings
from brightline.storage.base import utcnow
from brightline.storage.locks import serialize_custody_appends

log = logging.getLogger(__name__)

KEY_ENV = "BRIGHTLINE_CUSTODY_KEY"
_IN_BATCH = 500
"""References per ``IN (...)`` query: well under every database's bind-parameter limit."""


def custody_key(settings: Settings) -> bytes:
    """The 32-byte key that authenticates the log: ``BRIGHTLINE_CUSTODY_KEY`` (base64), else the
    key file ``$BRIGHTLINE_HOME/keys/custody.key``, created (0600) on first use.

    It must live outside the database: whoever can write the database but does not hold the key
    cannot produce entries that verify.
    """
    if settings.custody_key is not None:
        return decode_key(settings.custody_key, source=KEY_ENV)
    return load_or_create_key_file(settings.home / "keys" / "custody.key")


def record_custody(
    *,
    session: Session,
    key: bytes,
    event: CustodyEvent,
    actor: str,
    object_ref: str | None = None,
    report_id: int | None = None,
    case_id: int | None = None,
    hold_id: int | None = None,
    reason: str | None = None,
    details: Mapping[str, DetailValue] | None = None,
    now: datetime | None = None,
) -> CustodyEntry:
    """Append one entry in the caller's transaction (flushed, never committed).

    Refused (InvalidInput) before anything is written: an unknown event, an empty or overlong
    actor, an overlong reason, a missing reason for an access or an export, a malformed object
    reference or id, details that are not short names mapped to text, integers or nulls, and NUL
    characters anywhere. Refused (StorageError) when the current head does not verify under
    ``key``: appending would mix keys in one chain (a restored database with a new key file, a
    wrong ``BRIGHTLINE_CUSTODY_KEY``) or build on a tampered entry.
    """
    entry_fields = _validated(
        event=event,
        actor=actor,
        object_ref=object_ref,
        report_id=report_id,
        case_id=case_id,
        hold_id=hold_id,
        reason=reason,
        details=details,
        now=now,
    )
    _check_key(key)
    session.flush()  # the caller's pending rows first, so that their errors stay theirs
    serialize_custody_appends(session)
    head = session.execute(
        select(CustodyRecord.seq, CustodyRecord.entry_hash, CustodyRecord.mac)
        .order_by(CustodyRecord.seq.desc())
        .limit(1)
    ).first()
    if head is not None and not hmac.compare_digest(mac_of(key, head.entry_hash), head.mac):
        raise StorageError(
            f"the newest custody entry (seq {head.seq}) does not verify under this custody key: "
            "wrong key, or the log was tampered with; run `brightline custody verify`"
        )
    seq, prev_hash = (1, GENESIS_HASH) if head is None else (head.seq + 1, head.entry_hash)
    unsigned = CustodyEntry(seq=seq, prev_hash=prev_hash, entry_hash="", mac="", **entry_fields)
    entry_hash = entry_hash_of(unsigned)
    entry = CustodyEntry(
        seq=seq,
        prev_hash=prev_hash,
        entry_hash=entry_hash,
        mac=mac_of(key, entry_hash),
        **entry_fields,
    )
    session.add(
        CustodyRecord(
            seq=entry.seq,
            at=entry.at,
            event=entry.event.value,
            object_ref=entry.object_ref,
            report_id=entry.report_id,
            case_id=entry.case_id,
            hold_id=entry.hold_id,
            actor=entry.actor,
            reason=entry.reason,
            details=canonical_json(dict(entry.details)),
            prev_hash=entry.prev_hash,
            entry_hash=entry.entry_hash,
            mac=entry.mac,
        )
    )
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(
            f"another custody entry took seq {seq} at the same time; retry the transaction"
        ) from None
    log.info("custody entry %d appended (%s)", entry.seq, entry.event.value)
    return entry


def _check_key(key: bytes) -> None:
    if not isinstance(key, bytes) or len(key) != 32:
        raise InvalidInput("the custody key is 32 bytes")


def _validated(
    *,
    event: CustodyEvent,
    actor: str,
    object_ref: str | None,
    report_id: int | None,
    case_id: int | None,
    hold_id: int | None,
    reason: str | None,
    details: Mapping[str, DetailValue] | None,
    now: datetime | None,
) -> dict[str, Any]:
    try:
        kind = CustodyEvent(event)
    except ValueError:
        raise InvalidInput("unknown custody event") from None
    if object_ref is not None:
        parse_ref(object_ref)
    for value, name in ((report_id, "report_id"), (case_id, "case_id"), (hold_id, "hold_id")):
        check_id(value, name)
    if reason is not None:
        check_text(reason, "the reason", max_length=MAX_REASON_LENGTH)
    if kind in NEEDS_REASON and (reason is None or not reason.strip()):
        raise InvalidInput(f"a custody '{kind.value}' entry needs a reason")
    at = utcnow() if now is None else now
    if not isinstance(at, datetime) or at.tzinfo is None:
        raise InvalidInput("a custody time must be a timezone-aware datetime")
    return {
        "at": at.astimezone(UTC),
        "event": kind,
        "object_ref": object_ref,
        "report_id": report_id,
        "case_id": case_id,
        "hold_id": hold_id,
        "actor": check_actor(actor),
        "reason": reason,
        "details": check_details(details),
    }


# -- reading ---------------------------------------------------------------------------------


def stored_columns() -> Select[*tuple[Any, ...]]:
    """The log's columns with ``at`` as the database returns it (text on SQLite), so that one
    tampered row cannot make a whole read fail inside the driver."""
    return select(
        CustodyRecord.seq,
        type_coerce(CustodyRecord.at, Text()).label("at"),
        CustodyRecord.event,
        CustodyRecord.object_ref,
        CustodyRecord.report_id,
        CustodyRecord.case_id,
        CustodyRecord.hold_id,
        CustodyRecord.actor,
        CustodyRecord.reason,
        CustodyRecord.details,
        CustodyRecord.prev_hash,
        CustodyRecord.entry_hash,
        CustodyRecord.mac,
    )


def stored_at(value: object) -> datetime:
    """A stored timestamp as an aware UTC datetime: PostgreSQL hands back datetimes, SQLite the
    text SQLAlchemy wrote. ValueError for anything else."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise ValueError("not a timestamp")
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def entry_from_row(row: Any) -> CustodyEntry:
    """The entry a stored row holds; ValueError or TypeError if a field is malformed."""
    details = json.loads(row.details)
    if not isinstance(details, dict):
        raise ValueError("details are not a JSON object")
    return CustodyEntry(
        seq=row.seq,
        at=stored_at(row.at),
        event=CustodyEvent(row.event),
        object_ref=row.object_ref,
        report_id=row.report_id,
        case_id=row.case_id,
        hold_id=row.hold_id,
        actor=row.actor,
        reason=row.reason,
        details=details,
        prev_hash=row.prev_hash,
        entry_hash=row.entry_hash,
        mac=row.mac,
    )


def custody_entries(
    *,
    session: Session,
    object_refs: Collection[str] | None = None,
    report_id: int | None = None,
    hold_id: int | None = None,
) -> list[CustodyEntry]:
    """Entries about any of ``object_refs``, ``report_id`` or ``hold_id`` (OR-ed), by ``seq``.

    With no filter at all, every entry; an empty ``object_refs`` alone matches nothing. Entries
    are returned as stored, unverified: :func:`brightline.custody.verify_custody` says whether
    the log is intact. A row too damaged to read is a StorageError naming its ``seq``.
    """
    check_id(report_id, "report_id")
    check_id(hold_id, "hold_id")
    for ref in object_refs or ():
        parse_ref(ref)
    refs = sorted(set(object_refs or ()))
    queries: list[Select[*tuple[Any, ...]]] = []
    for start in range(0, len(refs), _IN_BATCH):
        batch = refs[start : start + _IN_BATCH]
        queries.append(stored_columns().where(CustodyRecord.object_ref.in_(batch)))
    if report_id is not None:
        queries.append(stored_columns().where(CustodyRecord.report_id == report_id))
    if hold_id is not None:
        queries.append(stored_columns().where(CustodyRecord.hold_id == hold_id))
    if object_refs is None and report_id is None and hold_id is None:
        queries.append(stored_columns())
    rows: dict[int, Any] = {}
    for query in queries:
        for row in session.execute(query.order_by(CustodyRecord.seq)):
            rows[row.seq] = row
    return list(_entries(rows[seq] for seq in sorted(rows)))


def _entries(rows: Iterable[Any]) -> Iterable[CustodyEntry]:
    for row in rows:
        try:
            yield entry_from_row(row)
        except (ValueError, TypeError):
            raise StorageError(
                f"custody entry seq {row.seq} is malformed: run `brightline custody verify`"
            ) from None
