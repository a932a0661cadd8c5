"""Concurrent appends keep the chain linear: serialised on PostgreSQL, refused loudly on a race."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

import brightline.custody.log as custody_log
from brightline.custody import custody_entries, verify_custody
from brightline.errors import Conflict
from tests.custody.helpers import KEY, append

WRITERS = 6
APPENDS = 15


def test_concurrent_appends_stay_one_chain(engine: Engine, sessions: sessionmaker[Session]) -> None:
    """Each writer appends in its own transactions; on PostgreSQL every one of them succeeds
    (the advisory lock serialises them), on SQLite a writer that loses a race fails loudly."""
    start = threading.Barrier(WRITERS)

    def writer(number: int) -> int:
        start.wait()
        done = 0
        for n in range(APPENDS):
            try:
                with sessions.begin() as session:
                    append(session, number * 100 + n, actor=f"writer-{number}")
                done += 1
            except (Conflict, OperationalError):
                if engine.dialect.name == "postgresql":
                    raise
        return done

    with ThreadPoolExecutor(WRITERS) as pool:
        done = sum(pool.map(writer, range(WRITERS)))
    if engine.dialect.name == "postgresql":
        assert done == WRITERS * APPENDS
    with sessions() as session:
        entries = custody_entries(session=session)
        assert [entry.seq for entry in entries] == list(range(1, done + 1))
        result = verify_custody(session=session, key=KEY)
        assert result.ok, result.problems
        assert result.checked == done


def test_an_append_that_raced_past_the_lock_fails_instead_of_forking(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer that read the head before another's append committed cannot commit after it."""
    with sessions.begin() as session:
        append(session, 1)
    read_head = threading.Event()

    def no_lock(session: Session) -> None:  # a writer that skips the lock, as a bug might
        read_head.set()

    monkeypatch.setattr(custody_log, "serialize_custody_appends", no_lock)
    first = sessions()
    append(first, 2)  # flushed, not committed: the head the racer reads is still seq 1
    outcome: list[BaseException | int] = []

    def racer() -> None:
        try:
            with sessions.begin() as session:
                outcome.append(append(session, 3).seq)
        except BaseException as exc:  # handed over to the test's thread
            outcome.append(exc)

    thread = threading.Thread(target=racer)
    thread.start()
    assert read_head.wait(10)
    read_head.clear()
    # The racer now waits on the write (SQLite's lock, PostgreSQL's unique index) until:
    time.sleep(0.5)
    first.commit()
    first.close()
    thread.join(60)
    assert len(outcome) == 1
    assert isinstance(outcome[0], Conflict | OperationalError), outcome
    with sessions() as session:
        assert [e.seq for e in custody_entries(session=session)] == [1, 2]
        assert verify_custody(session=session, key=KEY).ok
