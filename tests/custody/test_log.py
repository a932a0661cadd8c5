"""Appending to the chain of custody and reading it back, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
import stat
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from brightline.custody import (
    GENESIS_HASH,
    CustodyEntry,
    CustodyEvent,
    custody_entries,
    custody_key,
    entry_hash_of,
    record_custody,
    verify_custody,
)
from brightline.custody.entries import mac_of
from brightline.errors import InvalidInput, StorageError
from brightline.settings import load_settings
from tests.custody.helpers import KEY, OTHER_KEY, T0, append, fill, ref


def test_entries_chain_from_genesis_and_are_authenticated(session: Session) -> None:
    entries = fill(session, 3)
    assert [entry.seq for entry in entries] == [1, 2, 3]
    assert entries[0].prev_hash == GENESIS_HASH
    assert entries[1].prev_hash == entries[0].entry_hash
    assert entries[2].prev_hash == entries[1].entry_hash
    for entry in entries:
        assert entry_hash_of(entry) == entry.entry_hash
        assert entry.mac == mac_of(KEY, entry.entry_hash)
        assert entry.at.tzinfo is UTC
    assert len({entry.entry_hash for entry in entries}) == 3


def test_nothing_is_committed_by_an_append(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        fill(session, 2)
        session.rollback()
    with sessions() as session:
        assert custody_entries(session=session) == []
        assert append(session, 1).seq == 1  # the rolled-back entries left no trace in the chain


# Text and values chosen to trip up storage: non-ASCII in every plane, line breaks, the largest
# integers both databases hold, a time given in another zone with every microsecond digit set.
AWKWARD: dict[str, Any] = {
    "event": CustodyEvent.ACCESSED,
    "actor": "reviewer é 漢字 😀 'quoted' \"double\" \\",
    "object_ref": ref(9),
    "report_id": 2**63 - 1,
    "case_id": 1,
    "hold_id": None,
    "reason": "line one\r\nline two\ttabbed \u2028 \ufeff trailing  ",
    "details": {
        "big": 2**63 - 1,
        "small": -(2**63),
        "zero": 0,
        "empty": "",
        "none": None,
        "text": "ünïcödé → ✓ 𝄞 \\n",
    },
    "now": datetime(
        2026, 12, 1, 14, 30, 59, 999999, tzinfo=timezone(timedelta(hours=5, minutes=30))
    ),
}


def test_the_canonical_form_round_trips_through_storage(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        written = [append(session, 1), record_custody(session=session, key=KEY, **AWKWARD)]
    assert written[1].at == datetime(2026, 12, 1, 9, 0, 59, 999999, tzinfo=UTC)
    with sessions() as session:
        read = custody_entries(session=session)
        assert read == written
        for entry in read:
            assert entry.at.tzinfo is UTC
            assert entry_hash_of(entry) == entry.entry_hash
        assert verify_custody(session=session, key=KEY).ok


def test_json_form_round_trips(session: Session) -> None:
    entry = record_custody(session=session, key=KEY, **AWKWARD)
    data = entry.to_json()
    assert data["at"] == "2026-12-01T09:00:59.999999Z"
    assert data["event"] == "accessed"
    again = CustodyEntry.from_json(json.loads(json.dumps(data)))
    assert again == entry
    assert entry_hash_of(again) == entry.entry_hash


@pytest.mark.parametrize(
    "change",
    [
        {"extra": 1},
        {"seq": "1"},
        {"seq": 0},
        {"at": "2026-12-01T09:00:00Z"},
        {"at": "2026-12-01T09:00:00.000000+00:00"},
        {"event": "copied"},
        {"object_ref": "sha256:ABC"},
        {"report_id": True},
        {"actor": 5},
        {"reason": 5},
        {"details": {"x": 1.5}},
        {"details": []},
        {"entry_hash": "0" * 63},
        {"mac": "G" * 64},
    ],
)
def test_from_json_refuses_malformed_entries(session: Session, change: dict[str, Any]) -> None:
    data = append(session, 1).to_json() | change
    with pytest.raises(InvalidInput):
        CustodyEntry.from_json(data)
    with pytest.raises(InvalidInput):
        CustodyEntry.from_json({key: value for key, value in data.items() if key != "mac"})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"event": "copied"}, "unknown custody event"),
        ({"actor": ""}, "actor must not be empty"),
        ({"actor": "   "}, "actor must not be empty"),
        ({"actor": "x" * 201}, "longer than 200"),
        ({"actor": "staff\nseq 1: fine"}, "control"),
        ({"actor": "staff\u202e"}, "control"),
        ({"actor": 7}, "must be text"),
        ({"reason": "r" * 2001}, "longer than 2000"),
        ({"reason": "nul\x00inside"}, "NUL"),
        ({"reason": "lone \ud800 surrogate"}, "not valid Unicode"),
        ({"actor": "nul\x00"}, "NUL"),
        ({"event": CustodyEvent.ACCESSED, "reason": None}, "needs a reason"),
        ({"event": CustodyEvent.EXPORTED, "reason": "  "}, "needs a reason"),
        ({"object_ref": "sha256:" + "A" * 64}, "evidence reference"),
        ({"object_ref": "md5:" + "a" * 32}, "evidence reference"),
        ({"report_id": 0}, "report_id"),
        ({"case_id": -1}, "case_id"),
        ({"hold_id": 2**63}, "hold_id"),
        ({"hold_id": True}, "hold_id"),
        ({"details": {"Bad Key": "x"}}, "detail names"),
        ({"details": {"k": 1.5}}, "must be text"),
        ({"details": {"k": True}}, "must be text"),
        ({"details": {"k": 2**63}}, "out of range"),
        ({"details": {"k": "v" * 2001}}, "longer than 2000"),
        ({"details": {"k": "\x00"}}, "NUL"),
        ({"details": {f"k{n}": n for n in range(33)}}, "at most 32"),
        ({"details": ["k"]}, "mapping"),
        ({"now": datetime(2026, 12, 1, 9, 0)}, "timezone-aware"),
    ],
)
def test_malformed_appends_are_refused_before_anything_is_written(
    session: Session, change: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        append(session, 1, **change)
    assert custody_entries(session=session) == []


def test_a_key_that_is_not_32_bytes_is_refused(session: Session) -> None:
    with pytest.raises(InvalidInput, match="32 bytes"):
        append(session, 1, key=b"short")


def test_an_append_under_another_key_is_refused(session: Session) -> None:
    fill(session, 2)
    with pytest.raises(StorageError, match=r"\(seq 2\) does not verify under this custody key"):
        append(session, 3, key=OTHER_KEY)
    assert len(custody_entries(session=session)) == 2


def test_entries_filter_by_object_report_and_hold(session: Session) -> None:
    entries = fill(session, 12)
    by_object = custody_entries(session=session, object_refs=[ref(1)])
    assert [e.seq for e in by_object] == [e.seq for e in entries if e.object_ref == ref(1)]
    by_report = custody_entries(session=session, report_id=101)
    assert [e.seq for e in by_report] == [e.seq for e in entries if e.report_id == 101]
    by_hold = custody_entries(session=session, hold_id=7)
    assert [e.seq for e in by_hold] == [3, 6, 9, 12]
    either = custody_entries(session=session, object_refs={ref(2)}, hold_id=7)
    assert [e.seq for e in either] == sorted(
        {e.seq for e in entries if e.object_ref == ref(2) or e.hold_id == 7}
    )
    assert custody_entries(session=session) == entries
    assert custody_entries(session=session, object_refs=[]) == []
    assert custody_entries(session=session, object_refs=[ref(99)]) == []
    many = [ref(n) for n in range(1_200)]  # more than one IN (...) batch
    assert custody_entries(session=session, object_refs=many) == entries
    with pytest.raises(InvalidInput):
        custody_entries(session=session, object_refs=["not-a-ref"])
    with pytest.raises(InvalidInput):
        custody_entries(session=session, report_id=0)


def test_the_log_refuses_update_and_delete(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        fill(session, 2)
    for statement in (
        "UPDATE custody_log SET actor = 'someone-else' WHERE seq = 1",
        "DELETE FROM custody_log WHERE seq = 2",
    ):
        with sessions() as session, pytest.raises(DBAPIError, match="append-only"):
            session.execute(text(statement))
    with sessions() as session:
        assert len(custody_entries(session=session)) == 2


def test_a_second_entry_after_the_same_head_cannot_fork_the_chain(session: Session) -> None:
    first = append(session, 1)
    with pytest.raises(IntegrityError):
        session.execute(
            text(
                "INSERT INTO custody_log (seq, at, event, actor, details, prev_hash, entry_hash,"
                " mac) VALUES (2, :at, 'held', 'x', '{}', :prev, :hash, :hash)"
            ),
            {"at": T0, "prev": first.prev_hash, "hash": "a" * 64},
        )


def test_the_key_comes_from_the_environment(tmp_path: Path) -> None:
    encoded = base64.b64encode(OTHER_KEY).decode()
    settings = load_settings({"BRIGHTLINE_HOME": str(tmp_path), "BRIGHTLINE_CUSTODY_KEY": encoded})
    assert custody_key(settings) == OTHER_KEY
    assert not (tmp_path / "keys").exists()
    bad = load_settings({"BRIGHTLINE_HOME": str(tmp_path), "BRIGHTLINE_CUSTODY_KEY": "bm9wZQ=="})
    with pytest.raises(InvalidInput, match="BRIGHTLINE_CUSTODY_KEY") as raised:
        custody_key(bad)
    assert "bm9wZQ" not in str(raised.value)


def test_the_key_file_is_created_once_owner_only(tmp_path: Path) -> None:
    settings = load_settings({"BRIGHTLINE_HOME": str(tmp_path)})
    key = custody_key(settings)
    assert len(key) == 32
    assert custody_key(settings) == key
    path = tmp_path / "keys" / "custody.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    path.chmod(0o644)
    with pytest.raises(StorageError, match="chmod 600"):
        custody_key(settings)
