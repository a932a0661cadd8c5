"""``brightline custody verify`` and ``show`` end to end, with a real database and key file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from brightline.cli.main import cli
from brightline.custody import CustodyEntry, CustodyEvent, custody_key
from brightline.settings import load_settings
from brightline.storage import create_engine_for, session_factory, upgrade_database
from tests.custody.helpers import allow_tampering, append, ref


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {"BRIGHTLINE_HOME": str(tmp_path / "home"), "BRIGHTLINE_DATABASE_URL": database_url}


@pytest.fixture
def database(env: dict[str, str]) -> Iterator[sessionmaker[Session]]:
    engine = create_engine_for(env["BRIGHTLINE_DATABASE_URL"])
    upgrade_database(engine)
    yield session_factory(engine)
    engine.dispose()


def _run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def _seed(env: dict[str, str], database: sessionmaker[Session], count: int) -> list[CustodyEntry]:
    key = custody_key(load_settings(env))  # the key file the CLI will use
    with database.begin() as session:
        return [append(session, n, key=key) for n in range(1, count + 1)]


def test_verify_prints_the_head_to_anchor_on(
    env: dict[str, str], database: sessionmaker[Session]
) -> None:
    empty = _run(env, "custody", "verify")
    assert empty.exit_code == 0, empty.output
    assert empty.stdout == "custody log verified: 0 entries, no head yet\n"
    entries = _seed(env, database, 5)
    result = _run(env, "custody", "verify")
    assert result.exit_code == 0, result.output
    head = entries[-1]
    assert result.stdout == f"custody log verified: 5 entries, head 5 {head.entry_hash}\n"
    anchored = _run(env, "custody", "verify", "--anchor", f"5:{head.entry_hash}")
    assert anchored.exit_code == 0, anchored.output


def test_verify_lists_every_problem_and_exits_1(
    env: dict[str, str], database: sessionmaker[Session]
) -> None:
    entries = _seed(env, database, 6)
    with database.begin() as session:
        allow_tampering(session)
        session.execute(text("UPDATE custody_log SET actor = 'someone-else' WHERE seq = 2"))
        session.execute(text("DELETE FROM custody_log WHERE seq IN (4, 6)"))
    result = _run(env, "custody", "verify", "--anchor", f"6:{entries[-1].entry_hash}")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "seq 2: edited: its fields no longer match its hash",
        "seq 4: deleted: entry 4 is missing",
        "seq 6: truncated: the log ends at seq 5, but seq 6 was recorded as its head: "
        "entries were removed from its end",
    ]
    assert "verification failed: 3 problem(s) in 4 entries" in result.stderr


def test_verify_with_the_wrong_key_says_so(
    env: dict[str, str], database: sessionmaker[Session]
) -> None:
    _seed(env, database, 3)
    other = {**env, "BRIGHTLINE_CUSTODY_KEY": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}
    result = _run(other, "custody", "verify")
    assert result.exit_code == 1
    (line,) = result.stdout.splitlines()
    assert line.startswith("seq 1: wrong_key: no entry's MAC matches this custody key")


def test_show_lists_and_filters_entries(
    env: dict[str, str], database: sessionmaker[Session]
) -> None:
    entries = _seed(env, database, 6)
    listed = _run(env, "custody", "show")
    assert listed.exit_code == 0, listed.output
    lines = listed.stdout.splitlines()
    assert [line.split("\t")[0] for line in lines] == ["1", "2", "3", "4", "5", "6"]
    first = lines[0].split("\t")
    assert first[2:6] == [
        str(CustodyEvent.ACCESSED),
        ref(1),
        "report=101 case=200",
        "staff-1",
    ]
    by_hold = _run(env, "custody", "show", "--hold", "7", "--json")
    assert by_hold.exit_code == 0, by_hold.output
    shown = [CustodyEntry.from_json(json.loads(line)) for line in by_hold.stdout.splitlines()]
    assert shown == [entry for entry in entries if entry.hold_id == 7]
    by_object = _run(env, "custody", "show", "--object", ref(2), "--report", "100")
    seqs = [int(line.split("\t")[0]) for line in by_object.stdout.splitlines()]
    assert seqs == [e.seq for e in entries if e.object_ref == ref(2) or e.report_id == 100]
    nothing = _run(env, "custody", "show", "--report", "999")
    assert (nothing.exit_code, nothing.stdout) == (0, "")
    assert "no custody entries" in nothing.stderr


def test_show_keeps_each_entry_on_one_line(
    env: dict[str, str], database: sessionmaker[Session]
) -> None:
    key = custody_key(load_settings(env))
    with database.begin() as session:
        append(session, 1, key=key, reason="line one\nseq 9: forged line", details={"k": "a\tb"})
    listed = _run(env, "custody", "show")
    (line,) = listed.stdout.splitlines()
    assert "line one\\u000aseq 9: forged line" in line
    assert "k=a\\u0009b" in line


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["verify", "--anchor", "12"], "SEQ:HASH"),
        (["verify", "--anchor", "x:" + "a" * 64], "SEQ:HASH"),
        (["verify", "--anchor", "0:" + "a" * 64], "positive integer"),
        (["verify", "--anchor", "3:abc"], "64 hex"),
        (["show", "--report", "abc"], "--report takes a positive integer"),
        (["show", "--hold", "0"], "--hold takes a positive integer"),
        (["show", "--object", "not-a-ref"], "evidence reference"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(
    env: dict[str, str], args: list[str], message: str
) -> None:
    result = _run(env, "custody", *args)
    assert result.exit_code == 2
    assert result.output.count("\n") == 1
    assert message in result.output
