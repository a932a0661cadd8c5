"""A readers-writer lock: many concurrent queries, one index sync at a time."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class ReadWriteLock:
    """Writer-preferring: a waiting sync is not starved by a steady stream of queries.

    Not re-entrant: a thread that holds the read side must not ask for it again (it would wait
    behind a waiting writer that waits for it).
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._readers = 0
        self._writer = False
        self._writers_waiting = 0

    @contextmanager
    def reading(self) -> Iterator[None]:
        with self._condition:
            while self._writer or self._writers_waiting:
                self._condition.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._condition:
                self._readers -= 1
                if not self._readers:
                    self._condition.notify_all()

    @contextmanager
    def try_reading(self) -> Iterator[bool]:
        """Like :meth:`reading`, but yields False at once instead of waiting for a writer."""
        with self._condition:
            if self._writer or self._writers_waiting:
                acquired = False
            else:
                self._readers += 1
                acquired = True
        try:
            yield acquired
        finally:
            if acquired:
                with self._condition:
                    self._readers -= 1
                    if not self._readers:
                        self._condition.notify_all()

    @contextmanager
    def writing(self) -> Iterator[None]:
        with self._condition:
            self._writers_waiting += 1
            try:
                while self._writer or self._readers:
                    self._condition.wait()
            finally:
                self._writers_waiting -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._condition:
                self._writer = False
                self._condition.notify_all()
