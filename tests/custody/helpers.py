"""Small factories for custody tests: placeholder actors, digests of seeds, raw tampering.

Tampering goes around Brightline on purpose, the way someone with rights over the database
would: the append-only triggers are dropped first, then rows are changed with plain SQL.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from brightline.custody import CustodyEntry, CustodyEvent, record_custody

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
T0 = datetime(2026, 12, 1, 9, 0, 0, 123456, tzinfo=UTC)
EVENTS = list(CustodyEvent)


def ref(seed: int) -> str:
    """A vault reference: the digest of a placeholder, not of any real content."""
    return "sha256:" + hashlib.sha256(f"synthetic-{seed}".encode()).hexdigest()


def append(session: Session, n: int, *, key: bytes = KEY, **overrides: Any) -> CustodyEntry:
    """The ``n``-th placeholder entry (alternating events, objects and reports)."""
    fields: dict[str, Any] = {
        "event": EVENTS[n % len(EVENTS)],
        "actor": f"staff-{n % 3}",
        "object_ref": ref(n % 4),
        "report_id": 100 + n % 2,
        "case_id": 200,
        "hold_id": 7 if n % 3 == 0 else None,
        "reason": f"placeholder reason {n}",
        "details": {"step": n, "note": "synthetic"},
        "now": T0 + timedelta(minutes=n),
    }
    fields.update(overrides)
    return record_custody(session=session, key=key, **fields)


def fill(session: Session, count: int, *, key: bytes = KEY) -> list[CustodyEntry]:
    return [append(session, n, key=key) for n in range(1, count + 1)]


def allow_tampering(session: Session) -> None:
    """Drop the triggers that refuse UPDATE and DELETE on the log (as an attacker could)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("DROP TRIGGER custody_log_no_update_or_delete ON custody_log"))
    else:
        session.execute(text("DROP TRIGGER custody_log_no_update"))
        session.execute(text("DROP TRIGGER custody_log_no_delete"))


def move(session: Session, seq: int, to: int) -> None:
    """Give the row at ``seq`` the position ``to`` (which must be free)."""
    session.execute(
        text("UPDATE custody_log SET seq = :to WHERE seq = :seq"), {"seq": seq, "to": to}
    )


def swap(session: Session, first: int, second: int) -> None:
    """Exchange two rows' positions (in three steps: seq is the primary key)."""
    parking = 1_000_000
    move(session, first, parking)
    move(session, second, first)
    move(session, parking, second)


def found(problems: list[Any]) -> list[tuple[int, str]]:
    return [(problem.seq, problem.kind) for problem in problems]
