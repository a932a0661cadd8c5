"""Properties, on SQLite and PostgreSQL: whatever is appended reads back as written and
verifies; whatever single tampering follows is found, at the right ``seq``.

Each example runs in its own transaction, rolled back afterwards, on a database whose
append-only triggers were dropped once up front (so that tampering is possible at all).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session, sessionmaker

from brightline.custody import (
    CustodyEntry,
    CustodyEvent,
    custody_entries,
    entry_hash_of,
    record_custody,
    verify_custody,
)
from brightline.custody.entries import NEEDS_REASON, canonical_json
from brightline.storage.base import UTCDateTime
from tests.custody.helpers import KEY, allow_tampering, found, ref, swap

# Text a database must hand back exactly: any script, symbols, line breaks and odd spaces;
# never NUL or lone surrogates (refused before they reach a database).
storable = st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=40
)
printable = st.text(
    st.characters(categories=("L", "M", "N", "P", "S"), include_characters=" "),
    min_size=1,
    max_size=30,
).filter(lambda s: s.strip() != "")
ids = st.none() | st.integers(1, 2**63 - 1)
detail_values = st.none() | st.integers(-(2**63), 2**63 - 1) | storable
details = st.dictionaries(
    st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True), detail_values, max_size=5
)
moments = st.datetimes(
    min_value=datetime(1990, 1, 1),
    max_value=datetime(2150, 1, 1),
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=-7)), timezone(timedelta(hours=5, minutes=45))]
    ),
)


def _with_reason(fields: dict[str, Any]) -> dict[str, Any]:
    """Accesses and exports are recorded only with a reason."""
    if fields["event"] in NEEDS_REASON and fields["reason"] is None:
        return fields | {"reason": "placeholder reason"}
    return fields


entries = st.fixed_dictionaries(
    {
        "event": st.sampled_from(list(CustodyEvent)),
        "actor": printable,
        "object_ref": st.none() | st.integers(0, 50).map(ref),
        "report_id": ids,
        "case_id": ids,
        "hold_id": ids,
        "reason": st.none() | storable.map(lambda s: s + "why"),
        "details": details,
        "now": moments,
    }
).map(_with_reason)

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def tamperable(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    with sessions.begin() as session:
        allow_tampering(session)
    return sessions


@SETTINGS
@given(drawn=st.lists(entries, min_size=1, max_size=4))
def test_entries_read_back_exactly_as_written(
    tamperable: sessionmaker[Session], drawn: list[dict[str, Any]]
) -> None:
    with tamperable() as session:
        try:
            written = [record_custody(session=session, key=KEY, **fields) for fields in drawn]
            read = custody_entries(session=session)  # from the database, not the session
            assert read == written
            for entry in read:
                assert entry_hash_of(entry) == entry.entry_hash
                assert CustodyEntry.from_json(entry.to_json()) == entry
            assert verify_custody(session=session, key=KEY).ok
        finally:
            session.rollback()


EDITS = {
    column: text(f"UPDATE custody_log SET {column} = :new WHERE seq = :seq")  # noqa: S608
    for column in ("actor", "reason", "details", "report_id")
} | {
    "at": text("UPDATE custody_log SET at = :new WHERE seq = :seq").bindparams(
        bindparam("new", type_=UTCDateTime())
    )
}
tampers = st.one_of(
    st.tuples(st.just("edit"), st.sampled_from(sorted(EDITS))),
    st.tuples(st.just("forge")),
    st.tuples(st.just("delete")),
    st.tuples(st.just("swap")),
)


def _tamper(
    session: Session, log: list[CustodyEntry], action: tuple[str, ...], data: st.DataObject
) -> list[tuple[int, str]]:
    """Tamper once; returns the problems that must be found (seq, kind)."""
    n = len(log)
    seq = data.draw(st.integers(1, n), label="seq")
    entry = log[seq - 1]
    kind = action[0]
    if kind == "edit":
        column = action[1]
        new: object = {
            "actor": entry.actor + "x",
            "reason": None if entry.reason else "tampered",
            "at": entry.at + timedelta(microseconds=1),
            "details": canonical_json({**entry.details, "tampered": 1}),
            "report_id": (entry.report_id or 0) % (2**62) + 1,
        }[column]
        session.execute(EDITS[column], {"new": new, "seq": seq})
        return [(seq, "edited")]
    if kind == "forge":
        forged = CustodyEntry.from_json(entry.to_json() | {"actor": entry.actor + "x"})
        session.execute(
            text("UPDATE custody_log SET actor = :actor, entry_hash = :hash WHERE seq = :seq"),
            {"actor": forged.actor, "hash": entry_hash_of(forged), "seq": seq},
        )
        return [(seq, "bad_mac" if n > 1 else "wrong_key")]
    if kind == "delete":
        session.execute(text("DELETE FROM custody_log WHERE seq = :seq"), {"seq": seq})
        return [(seq, "deleted" if seq < n else "truncated")]
    other = data.draw(st.integers(1, n).filter(lambda s: s != seq), label="other")
    swap(session, seq, other)
    return [(seq, "reordered"), (other, "reordered")]


@SETTINGS
@given(drawn=st.lists(entries, min_size=2, max_size=10), action=tampers, data=st.data())
def test_any_single_tampering_is_found_where_it_is(
    tamperable: sessionmaker[Session],
    drawn: list[dict[str, Any]],
    action: tuple[str, ...],
    data: st.DataObject,
) -> None:
    with tamperable() as session:
        try:
            log = [record_custody(session=session, key=KEY, **fields) for fields in drawn]
            anchor = (log[-1].seq, log[-1].entry_hash)
            assert verify_custody(session=session, key=KEY, anchor=anchor).ok
            expected = _tamper(session, log, action, data)
            result = verify_custody(session=session, key=KEY, anchor=anchor)
            assert not result.ok
            assert set(expected) <= set(found(result.problems)), result.problems
        finally:
            session.rollback()
