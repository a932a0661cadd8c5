"""Hash many files across processes, in input order.

Hashing is CPU-bound (decode + PDQ), so it runs in a process pool; matching stays in the parent,
which holds the index once. Results come back in input order so output is deterministic, with a
bounded number of files in flight so memory does not grow with the tree.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from brightline.signals import HashedContent, HashingLimits, hash_file


@dataclass(frozen=True, slots=True)
class HashOutcome:
    path: Path
    content: HashedContent | None
    error: str | None = None
    """Set when the file could not be read at all (I/O error); ``content`` is then None."""


def hash_one(path: Path, limits: HashingLimits, dihedral: bool) -> HashOutcome:
    try:
        return HashOutcome(path, hash_file(path, limits=limits, dihedral=dihedral))
    except OSError as exc:
        return HashOutcome(path, None, exc.strerror or type(exc).__name__)


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)


def hash_paths(
    paths: Iterable[Path], *, limits: HashingLimits, dihedral: bool, workers: int
) -> Iterator[HashOutcome]:
    """Hash ``paths`` with ``workers`` processes (1 = in this process, easiest to debug)."""
    if workers <= 1:
        for path in paths:
            yield hash_one(path, limits, dihedral)
        return
    in_flight: deque[Future[HashOutcome]] = deque()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        try:
            for path in paths:
                in_flight.append(pool.submit(hash_one, path, limits, dihedral))
                if len(in_flight) >= workers * 4:
                    yield in_flight.popleft().result()
            while in_flight:
                yield in_flight.popleft().result()
        finally:
            for future in in_flight:
                future.cancel()
