"""The two in-memory indexes a matcher needs (images and video frames), kept current.

Shared by the CLI (open, sync once, save for the next command) and the HTTP service (open at
start-up, then sync every few seconds in the background while requests query). Queries share a
readers-writer lock that a sync takes exclusively: a sync that adds rows mutates the index in
place, and a half-added segment must never be read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
from sqlalchemy.orm import Session

from brightline.index import PDQIndex
from brightline.matching.index_sync import (
    PDQ_SIGNAL,
    VIDEO_SIGNAL,
    SyncCounts,
    SyncedPDQIndex,
)
from brightline.matching.read_write_lock import ReadWriteLock

log = logging.getLogger(__name__)

T = TypeVar("T")


def open_synced_index(
    *, session: Session, index_dir: Path, signal_type: str, save: bool = True
) -> SyncedPDQIndex:
    """Load, sync and (if anything changed and ``save``) save one index, so the next start is fast.

    ``pdq`` is the image index; ``vpdq`` the index of banked videos' frames.
    """
    directory = index_dir / signal_type
    synced, _counts = SyncedPDQIndex.open(
        session=session, directory=directory, signal_type=signal_type
    )
    if save and synced.dirty:
        save_quietly(synced, directory)
    return synced


def save_quietly(synced: SyncedPDQIndex, directory: Path) -> None:
    try:
        synced.save(directory)
        synced.dirty = False
    except OSError as exc:
        # Matching can go on from memory; only the next start is slower.
        log.warning("could not save the PDQ index: %s", exc.strerror)


class MatchIndexes:
    """The image and video-frame indexes, with a lock shared by queries and syncs."""

    def __init__(self, index_dir: Path, images: SyncedPDQIndex, videos: SyncedPDQIndex) -> None:
        self.index_dir = index_dir
        self._images = images
        self._videos = videos
        self._lock = ReadWriteLock()

    @classmethod
    def open(cls, *, session: Session, index_dir: Path, save: bool = True) -> MatchIndexes:
        return cls(
            index_dir,
            open_synced_index(
                session=session, index_dir=index_dir, signal_type=PDQ_SIGNAL, save=save
            ),
            open_synced_index(
                session=session, index_dir=index_dir, signal_type=VIDEO_SIGNAL, save=save
            ),
        )

    @staticmethod
    def warm_up() -> None:
        """Run one query through a throwaway index so the compiled search kernels are loaded
        (or compiled, on a cold cache) now, not inside the first request a worker serves."""
        probe = np.zeros((1, 32), np.uint8)
        PDQIndex.build(probe, np.zeros(1, np.int64)).query_many(probe, 31)

    def read(self, use: Callable[[PDQIndex, PDQIndex], T]) -> T:
        """Run ``use(image_index, video_index)`` while no sync can change them."""
        with self._lock.reading():
            return use(self._images.index, self._videos.index)

    def sync(self, *, session: Session) -> tuple[SyncCounts, SyncCounts]:
        """Read changes from the database while queries go on; lock only to apply them.

        One sync at a time (the service runs one sync task per worker; the CLI one command):
        :meth:`SyncedPDQIndex.fetch` reads watermarks that only :meth:`~SyncedPDQIndex.apply`
        moves.
        """
        images = self._images.fetch(session=session)
        videos = self._videos.fetch(session=session)
        with self._lock.writing():
            return self._images.apply(images), self._videos.apply(videos)

    def try_read(self, use: Callable[[PDQIndex, PDQIndex], T]) -> tuple[bool, T | None]:
        """:meth:`read` if the lock is free now, else ``(False, None)`` without waiting: for a
        caller on an event loop, which must never block behind a sync."""
        with self._lock.try_reading() as acquired:
            if not acquired:
                return False, None
            return True, use(self._images.index, self._videos.index)

    def save(self) -> None:
        """Persist whichever index changed since it was loaded (for a faster next start)."""
        with self._lock.writing():
            for synced in (self._images, self._videos):
                if synced.dirty:
                    save_quietly(synced, self.index_dir / synced.signal_type)

    def sizes(self) -> dict[str, int]:
        with self._lock.reading():
            return {PDQ_SIGNAL: len(self._images.index), VIDEO_SIGNAL: len(self._videos.index)}
