"""The readers-writer lock behind the match indexes: readers share, a writer excludes, and a
caller that must not block (the event loop) is told instead of made to wait."""

from __future__ import annotations

import threading

from brightline.matching.read_write_lock import ReadWriteLock


def test_readers_share_and_try_reading_refuses_while_a_writer_holds_or_waits() -> None:
    lock = ReadWriteLock()
    with lock.reading(), lock.try_reading() as second:
        assert second  # two readers at once

    writer_in = threading.Event()
    release_writer = threading.Event()

    def write() -> None:
        with lock.writing():
            writer_in.set()
            release_writer.wait(10)

    thread = threading.Thread(target=write)
    thread.start()
    assert writer_in.wait(10)
    with lock.try_reading() as acquired:
        assert not acquired
    release_writer.set()
    thread.join(10)
    with lock.try_reading() as acquired:
        assert acquired


def test_a_waiting_writer_turns_new_try_readers_away_and_then_gets_the_lock() -> None:
    lock = ReadWriteLock()
    wrote = threading.Event()
    with lock.reading():

        def write() -> None:
            with lock.writing():
                wrote.set()

        thread = threading.Thread(target=write)
        thread.start()
        while not lock._writers_waiting:  # the writer is queued behind this reader
            threading.Event().wait(0.01)
        with lock.try_reading() as acquired:
            assert not acquired  # writer-preferring: no new reader jumps the queue
    thread.join(10)
    assert wrote.is_set()
