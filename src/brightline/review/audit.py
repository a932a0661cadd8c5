"""The append-only audit log: who signed in, revealed, decided, skipped, downloaded or changed
what, and why.

Rows are only ever inserted; the database refuses UPDATE and DELETE (triggers from migration
0005), so the log stays trustworthy even against a bug here. ``detail`` is restricted to ids,
counts, flags and short codes so that no content, file name or user text can leak into a log
that auditors export; free text belongs only in ``reason``, which the actor wrote themselves.
"""

from __future__ import annotations

import csv
import enum
import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TextIO

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from brightline.errors import InvalidInput
from brightline.review.models import AuditEntry
from brightline.storage.base import utcnow

MAX_AUDIT_ROWS = 100_000
_SAFE_CODE = re.compile(r"[A-Za-z0-9_.:\-]{0,100}")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = ("id", "at", "actor", "action", "object_type", "object_id", "reason", "detail")

DetailValue = int | bool | str | None | list[int] | list[str]


class AuditAction(enum.StrEnum):
    FLAG = "flag"
    CASE_OPEN = "case_open"
    CASE_CLOSE = "case_close"
    CLAIM = "claim"
    RELEASE = "release"
    SKIP = "skip"
    REVEAL = "reveal"
    DECIDE = "decide"
    AUTO_CONFIRM = "auto_confirm"
    DOWNLOAD = "download"
    SETTING_CHANGE = "setting_change"
    SIGN_IN = "sign_in"
    LOCKOUT = "lockout"
    REPORT_BUILD = "report_build"
    """A CyberTipline report was built (and queued) from a case's confirmed items."""
    REPORT_OMIT = "report_omit"
    """A confirmed item was left out of a report (its media is missing), by explicit choice."""
    CLEARINGHOUSE_VIEW = "clearinghouse_view"
    """An investigator page of the clearinghouse's analysis was shown (queue or report)."""
    REFERRAL_FEEDBACK = "referral_feedback"
    """An agency's feedback (status, closing reason) was recorded on a referral."""
    LEGAL_VIEW = "legal_view"
    """The legal-process accountability page was shown (or its CSV downloaded: ``download``)."""
    LEGAL_ACTION = "legal_action"
    """Staff acted on a legal request in the console (verify, transition, assign, note; build,
    deliver or download a production); ``detail.action`` says which."""
    TERM_CANDIDATES_VIEW = "term_candidates_view"
    """The review queue of discovered term variants was shown."""
    TERM_CANDIDATE_DECIDE = "term_candidate_decide"
    """A discovered term variant was accepted onto its term list, or rejected."""


def _check_detail(detail: Mapping[str, DetailValue]) -> str:
    """Encode ``detail`` as canonical JSON, refusing anything that could be user text."""
    for key, value in detail.items():
        if not _SAFE_CODE.fullmatch(key):
            raise InvalidInput(f"audit detail key {key!r} is not a short code")
        values = value if isinstance(value, list) else [value]
        for one in values:
            if isinstance(one, str) and not _SAFE_CODE.fullmatch(one):
                raise InvalidInput(
                    f"audit detail {key!r} must hold ids and short codes, not free text"
                )
            if not isinstance(one, int | str | None):
                raise InvalidInput(f"audit detail {key!r} has an unsupported type")
    return json.dumps(dict(detail), sort_keys=True, separators=(",", ":"))


def audit(
    *,
    session: Session,
    actor: str,
    action: AuditAction,
    object_type: str,
    object_id: int | str,
    reason: str | None = None,
    detail: Mapping[str, DetailValue] | None = None,
    at: datetime | None = None,
) -> None:
    """Append one row in the caller's transaction: it commits (or not) with what it records."""
    if not actor.strip():
        raise InvalidInput("an audit row needs an actor")
    session.execute(
        insert(AuditEntry).values(
            at=at or utcnow(),
            actor=actor,
            action=action.value,
            object_type=object_type,
            object_id=str(object_id),
            reason=reason,
            detail=_check_detail(detail or {}),
        )
    )


def query_audit(
    *,
    session: Session,
    actor: str | None = None,
    action: AuditAction | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    object_type: str | None = None,
    object_id: int | str | None = None,
    limit: int = 10_000,
    newest_first: bool = False,
) -> list[AuditEntry]:
    """Rows matching every filter given, oldest first (or newest first, so that ``limit`` keeps
    the most recent); ``since`` inclusive, ``until`` exclusive."""
    if not 1 <= limit <= MAX_AUDIT_ROWS:
        raise InvalidInput(f"limit must be between 1 and {MAX_AUDIT_ROWS}")
    query = select(AuditEntry)
    if actor is not None:
        query = query.where(AuditEntry.actor == actor)
    if action is not None:
        query = query.where(AuditEntry.action == action.value)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    if object_type is not None:
        query = query.where(AuditEntry.object_type == object_type)
    if object_id is not None:
        query = query.where(AuditEntry.object_id == str(object_id))
    order = (
        (AuditEntry.at.desc(), AuditEntry.id.desc())
        if newest_first
        else (AuditEntry.at, AuditEntry.id)
    )
    return list(session.scalars(query.order_by(*order).limit(limit)))


def _cell(value: str) -> str:
    """Neutralise spreadsheet formulas: auditors open these files in spreadsheet programs."""
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def export_audit_csv(rows: Sequence[AuditEntry], stream: TextIO) -> int:
    """Write ``rows`` as CSV (header first, UTC ISO timestamps); returns how many rows."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            [
                row.id,
                row.at.isoformat().replace("+00:00", "Z"),
                _cell(row.actor),
                row.action,
                row.object_type,
                _cell(row.object_id),
                _cell(row.reason or ""),
                row.detail,
            ]
        )
    return len(rows)
