"""Verification finds every kind of tampering, says where, and never crashes on it.

Each test writes a log of six placeholder entries, then tampers with it the way someone with
rights over the database (but not the custody key) could: triggers dropped, plain SQL.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from brightline.custody import entry_hash_of, verify_custody
from brightline.custody.entries import canonical_json, mac_of
from brightline.custody.log import custody_entries
from brightline.errors import InvalidInput
from brightline.storage import create_engine_for, session_factory, upgrade_database
from tests.custody.helpers import KEY, OTHER_KEY, allow_tampering, fill, found, move, swap

Tamper = Callable[[Session], None]


def _sql(statement: str) -> Tamper:
    return lambda session: session.execute(text(statement))


def _forge(seq: int, key: bytes | None = None, **change: object) -> Tamper:
    """Edit an entry and recompute its hash (and, with an attacker's own key, its MAC)."""

    def tamper(session: Session) -> None:
        (entry,) = [e for e in custody_entries(session=session) if e.seq == seq]
        forged = dataclasses.replace(entry, **change)  # type: ignore[arg-type]
        new_hash = entry_hash_of(forged)
        session.execute(
            text(
                "UPDATE custody_log SET actor = :actor, reason = :reason, details = :details,"
                " prev_hash = :prev, entry_hash = :hash, mac = :mac WHERE seq = :seq"
            ),
            {
                "actor": forged.actor,
                "reason": forged.reason,
                "details": canonical_json(dict(forged.details)),
                "prev": forged.prev_hash,
                "hash": new_hash,
                "mac": mac_of(key, new_hash) if key else entry.mac,
                "seq": seq,
            },
        )

    return tamper


def _delete_and_close_the_gap(session: Session) -> None:
    session.execute(text("DELETE FROM custody_log WHERE seq = 3"))
    for seq in (4, 5, 6):
        move(session, seq, seq - 1)


CASES: dict[str, tuple[Tamper, list[tuple[int, str]]]] = {
    "actor edited": (
        _sql("UPDATE custody_log SET actor = 'someone-else' WHERE seq = 3"),
        [(3, "edited")],
    ),
    "time edited": (
        _sql(
            "UPDATE custody_log SET at = (SELECT at FROM custody_log WHERE seq = 1) WHERE seq = 3"
        ),
        [(3, "edited")],
    ),
    "event edited": (
        _sql("UPDATE custody_log SET event = 'purged' WHERE seq = 2 AND event <> 'purged'"),
        [(2, "edited")],
    ),
    "reason erased": (_sql("UPDATE custody_log SET reason = NULL WHERE seq = 4"), [(4, "edited")]),
    "details edited": (
        _sql("UPDATE custody_log SET details = '{\"step\": 5}' WHERE seq = 5"),
        [(5, "edited")],
    ),
    "details malformed": (
        _sql("UPDATE custody_log SET details = 'not json' WHERE seq = 5"),
        [(5, "edited")],
    ),
    "object swapped": (
        _sql(
            "UPDATE custody_log SET object_ref = (SELECT object_ref FROM custody_log WHERE seq = 2)"
            " WHERE seq = 3"
        ),
        [(3, "edited")],
    ),
    "link edited": (
        _sql("UPDATE custody_log SET prev_hash = '" + "f" * 64 + "' WHERE seq = 4"),
        [(4, "edited")],
    ),
    "hash edited": (
        _sql("UPDATE custody_log SET entry_hash = '" + "e" * 64 + "' WHERE seq = 2"),
        [(2, "edited")],
    ),
    "mac edited": (
        _sql("UPDATE custody_log SET mac = '" + "d" * 64 + "' WHERE seq = 6"),
        [(6, "bad_mac")],
    ),
    "hash recomputed": (_forge(3, actor="someone-else"), [(3, "bad_mac")]),
    "hash and mac recomputed with another key": (
        _forge(3, key=OTHER_KEY, reason="made up"),
        [(3, "bad_mac")],
    ),
    "first entry deleted": (_sql("DELETE FROM custody_log WHERE seq = 1"), [(1, "deleted")]),
    "middle entry deleted": (_sql("DELETE FROM custody_log WHERE seq = 3"), [(3, "deleted")]),
    "two entries deleted": (
        _sql("DELETE FROM custody_log WHERE seq IN (2, 3)"),
        [(2, "deleted")],
    ),
    "neighbours swapped": (lambda s: swap(s, 3, 4), [(3, "reordered"), (4, "reordered")]),
    "distant entries swapped": (lambda s: swap(s, 2, 5), [(2, "reordered"), (5, "reordered")]),
    "first and last swapped": (lambda s: swap(s, 1, 6), [(1, "reordered"), (6, "reordered")]),
    "deleted and renumbered": (
        _delete_and_close_the_gap,
        [(3, "reordered"), (4, "reordered"), (5, "reordered")],
    ),
    "last moved away": (lambda s: move(s, 6, 40), [(6, "deleted"), (40, "reordered")]),
}


@pytest.mark.parametrize("case", CASES)
def test_tampering_is_found_where_it_is(session: Session, case: str) -> None:
    tamper, expected = CASES[case]
    fill(session, 6)
    assert verify_custody(session=session, key=KEY).ok
    allow_tampering(session)
    tamper(session)
    result = verify_custody(session=session, key=KEY)
    assert not result.ok
    assert found(result.problems) == expected, result.problems


def test_problems_say_what_and_where(session: Session) -> None:
    fill(session, 8)
    allow_tampering(session)
    swap(session, 2, 3)
    session.execute(text("DELETE FROM custody_log WHERE seq IN (5, 6)"))
    session.execute(text("UPDATE custody_log SET actor = 'someone-else' WHERE seq = 8"))
    result = verify_custody(session=session, key=KEY)
    assert [(p.seq, p.kind, p.message) for p in result.problems] == [
        (2, "reordered", "this entry was written as seq 3"),
        (3, "reordered", "this entry was written as seq 2"),
        (5, "deleted", "entries 5 to 6 are missing"),
        (8, "edited", "its fields no longer match its hash"),
    ]
    assert result.checked == 6
    assert result.head_seq == 8


def test_an_intact_log_reports_its_head(session: Session) -> None:
    empty = verify_custody(session=session, key=KEY)
    assert (empty.ok, empty.checked, empty.head_seq, empty.head_hash) == (True, 0, None, None)
    entries = fill(session, 4)
    result = verify_custody(session=session, key=KEY)
    assert (result.ok, result.checked, result.problems) == (True, 4, [])
    assert (result.head_seq, result.head_hash) == (4, entries[-1].entry_hash)


def test_the_wrong_key_is_named_once_not_blamed_on_every_entry(session: Session) -> None:
    fill(session, 5)
    result = verify_custody(session=session, key=OTHER_KEY)
    assert not result.ok
    assert found(result.problems) == [(1, "wrong_key")]
    assert "not the key this log was written with" in result.problems[0].message


def test_a_log_cut_short_is_only_caught_against_an_anchor(session: Session) -> None:
    entries = fill(session, 6)
    anchor = (6, entries[-1].entry_hash)
    assert verify_custody(session=session, key=KEY, anchor=anchor).ok
    allow_tampering(session)
    session.execute(text("DELETE FROM custody_log WHERE seq >= 5"))
    assert verify_custody(session=session, key=KEY).ok  # what is left is intact
    result = verify_custody(session=session, key=KEY, anchor=anchor)
    assert found(result.problems) == [(6, "truncated")]
    assert "ends at seq 4" in result.problems[0].message
    session.execute(text("DELETE FROM custody_log"))
    assert found(verify_custody(session=session, key=KEY, anchor=anchor).problems) == [
        (6, "truncated")
    ]


def test_replaced_history_is_caught_against_an_anchor(session: Session) -> None:
    entries = fill(session, 6)
    allow_tampering(session)
    _forge(4, key=OTHER_KEY, actor="someone-else")(session)
    result = verify_custody(session=session, key=KEY, anchor=(4, entries[3].entry_hash))
    assert found(result.problems) == [(4, "bad_mac"), (4, "replaced")]
    session.execute(text("DELETE FROM custody_log WHERE seq = 4"))
    result = verify_custody(session=session, key=KEY, anchor=(4, entries[3].entry_hash))
    assert found(result.problems) == [(4, "deleted"), (4, "replaced")]


@pytest.mark.parametrize(
    "anchor", [(0, "a" * 64), (1, "a" * 63), (1, "z" * 64), (True, "a" * 64), (1, None)]
)
def test_malformed_anchors_are_refused(session: Session, anchor: tuple[int, str]) -> None:
    with pytest.raises(InvalidInput):
        verify_custody(session=session, key=KEY, anchor=anchor)


def test_a_key_that_is_not_32_bytes_is_refused(session: Session) -> None:
    with pytest.raises(InvalidInput):
        verify_custody(session=session, key=b"")


def test_a_garbled_timestamp_is_reported_not_a_crash(tmp_path: Path) -> None:
    """SQLite stores whatever it is given: a timestamp column can end up holding anything."""
    engine = create_engine_for(f"sqlite:///{tmp_path / 'brightline.db'}")
    try:
        upgrade_database(engine)
        with session_factory(engine)() as session:
            fill(session, 3)
            allow_tampering(session)
            session.execute(text("UPDATE custody_log SET at = 'yesterday' WHERE seq = 2"))
            result = verify_custody(session=session, key=KEY)
            assert [(p.seq, p.kind, p.message) for p in result.problems] == [
                (2, "edited", "its fields no longer match its hash (a field is malformed)")
            ]
    finally:
        engine.dispose()


def test_a_long_log_is_walked_in_pages(session: Session) -> None:
    fill(session, 2_345)
    allow_tampering(session)
    session.execute(text("DELETE FROM custody_log WHERE seq = 1001"))
    session.execute(text("UPDATE custody_log SET actor = 'someone-else' WHERE seq = 2000"))
    result = verify_custody(session=session, key=KEY)
    assert found(result.problems) == [(1001, "deleted"), (2000, "edited")]
    assert (result.checked, result.head_seq) == (2_344, 2_345)
