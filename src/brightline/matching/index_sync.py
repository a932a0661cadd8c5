"""Keep a persisted PDQ index in step with the database, incrementally.

The index on disk remembers which database it was built from (its ``instance_id``), the highest
entry id it holds and the last entry change it applied. Opening it replays only what happened since:
new PDQ entries are added, and enable/disable/delete changes are applied from the append-only
``entry_changes`` log. A missing, foreign or unreadable index is rebuilt from the database.

Id watermarks are sound because writers of entries and changes are serialised
(:mod:`brightline.storage.locks`): ids commit in id order on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select
from sqlalchemy.orm import Session

from brightline.banks.models import BankEntry, EntryChange, VideoSignature
from brightline.errors import InvalidInput
from brightline.index import PDQIndex
from brightline.signals.video import MIN_QUALITY, VideoHash
from brightline.storage.meta import instance_id

log = logging.getLogger(__name__)

SYNC_FILE = "sync.json"
SYNC_FORMAT = 1
READ_CHUNK = 100_000


@dataclass
class SyncState:
    instance_id: str
    last_entry_id: int = 0
    last_change_id: int = 0


PDQ_SIGNAL = "pdq"
VIDEO_SIGNAL = "vpdq"
FRAME_BITS = 20
"""Video frame index ids are ``entry_id << 20 | frame number``: up to ~1M frames (12 days at 1
frame/s) per video, and entry ids up to 2**43."""


def video_frame_id(entry_id: int, frame: int) -> int:
    return (entry_id << FRAME_BITS) | frame


def split_video_frame_id(frame_id: int) -> tuple[int, int]:
    return frame_id >> FRAME_BITS, frame_id & ((1 << FRAME_BITS) - 1)


@dataclass(frozen=True)
class _NewRows:
    last_entry_id: int
    hashes: NDArray[np.uint8]
    ids: NDArray[np.int64]
    disabled: list[int]


@dataclass(frozen=True)
class PendingSync:
    """What one sync read from the database, ready to apply to the index."""

    hashes: NDArray[np.uint8] | None
    ids: NDArray[np.int64] | None
    disabled: list[int]
    last_entry_id: int
    enable: list[int]
    disable: list[int]
    last_change_id: int
    changes: int


@dataclass(frozen=True)
class SyncCounts:
    added: int
    changes: int
    rebuilt: bool


class SyncedPDQIndex:
    """A :class:`PDQIndex` plus how far it has read the database."""

    def __init__(self, index: PDQIndex, state: SyncState, signal_type: str = PDQ_SIGNAL) -> None:
        self.index = index
        self.state = state
        self.signal_type = signal_type
        self.dirty = False

    @classmethod
    def open(
        cls, *, session: Session, directory: Path | None, signal_type: str = PDQ_SIGNAL
    ) -> tuple[SyncedPDQIndex, SyncCounts]:
        """Load the index from ``directory`` (if usable) and bring it up to date.

        ``signal_type`` is ``pdq`` (one hash per entry) or ``vpdq`` (one per usable video frame,
        ids from :func:`video_frame_id`).
        """
        if signal_type not in {PDQ_SIGNAL, VIDEO_SIGNAL}:
            raise InvalidInput(f"no PDQ index for signal type {signal_type!r}")
        db_id = instance_id(session)
        synced = cls._load(directory, db_id) if directory is not None else None
        rebuilt = synced is None
        if synced is None:
            synced = cls(
                PDQIndex.build(np.zeros((0, 32), np.uint8), np.zeros(0, np.int64)),
                SyncState(instance_id=db_id),
            )
        synced.signal_type = signal_type
        counts = synced.sync(session=session)
        return synced, SyncCounts(counts.added, counts.changes, rebuilt)

    @classmethod
    def _load(cls, directory: Path, db_id: str) -> SyncedPDQIndex | None:
        sync_path = directory / SYNC_FILE
        if not sync_path.is_file():
            return None
        try:
            raw = json.loads(sync_path.read_text())
            if raw.get("format") != SYNC_FORMAT or raw.get("instance_id") != db_id:
                log.info("persisted PDQ index belongs to another database or format; rebuilding")
                return None
            state = SyncState(
                instance_id=str(raw["instance_id"]),
                last_entry_id=int(raw["last_entry_id"]),
                last_change_id=int(raw["last_change_id"]),
            )
            index = PDQIndex.load(directory / "index", mmap=False)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("persisted PDQ index unreadable (%s); rebuilding", type(exc).__name__)
            return None
        return cls(index, state)

    def _read_new(self, session: Session, after: int) -> _NewRows | None:
        """The next chunk of entries of this index's signal type with ids above ``after``."""
        if self.signal_type == PDQ_SIGNAL:
            rows = session.execute(
                select(BankEntry.id, BankEntry.value, BankEntry.enabled)
                .where(BankEntry.signal_type == PDQ_SIGNAL, BankEntry.id > after)
                .order_by(BankEntry.id)
                .limit(READ_CHUNK)
            ).all()
            if not rows:
                return None
            ids = np.fromiter((row.id for row in rows), dtype=np.int64, count=len(rows))
            hashes = np.frombuffer(
                bytes.fromhex("".join(row.value for row in rows)), dtype=np.uint8
            ).reshape(-1, 32)
            disabled = [row.id for row in rows if not row.enabled]
            return _NewRows(int(ids[-1]), hashes, ids, disabled)
        video_rows = session.execute(
            select(BankEntry.id, BankEntry.enabled, VideoSignature.frames)
            .join(VideoSignature, VideoSignature.entry_id == BankEntry.id)
            .where(BankEntry.signal_type == VIDEO_SIGNAL, BankEntry.id > after)
            .order_by(BankEntry.id)
            .limit(READ_CHUNK // 1000)
        ).all()
        if not video_rows:
            return None
        frame_hashes: list[str] = []
        frame_ids: list[int] = []
        disabled = []
        for row in video_rows:
            for number, frame in enumerate(VideoHash.from_bytes(row.frames).frames):
                if frame.quality >= MIN_QUALITY:
                    frame_hashes.append(frame.pdq)
                    frame_ids.append(video_frame_id(row.id, number))
                    if not row.enabled:
                        disabled.append(frame_ids[-1])
        hashes = np.frombuffer(bytes.fromhex("".join(frame_hashes)), dtype=np.uint8).reshape(-1, 32)
        return _NewRows(
            int(video_rows[-1].id), hashes, np.asarray(frame_ids, dtype=np.int64), disabled
        )

    def _index_ids(self, session: Session, entry_ids: list[int]) -> list[int]:
        """Index ids of these entries: the entry id for PDQ, one per frame for video."""
        if self.signal_type == PDQ_SIGNAL or not entry_ids:
            return entry_ids
        counts = session.execute(
            select(VideoSignature.entry_id, VideoSignature.frame_count).where(
                VideoSignature.entry_id.in_(entry_ids)
            )
        ).all()
        return [video_frame_id(entry, n) for entry, count in counts for n in range(count)]

    def sync(self, *, session: Session) -> SyncCounts:
        return self.apply(self.fetch(session=session))

    def fetch(self, *, session: Session) -> PendingSync:
        """Read what changed since the last sync, without touching the index.

        Kept apart from :meth:`apply` so that a server can do the database reads while queries
        go on, and hold its index lock only for the in-memory update.
        """
        new_hashes: list[NDArray[np.uint8]] = []
        new_ids: list[NDArray[np.int64]] = []
        disabled: list[int] = []
        last_entry_id = self.state.last_entry_id
        while (chunk := self._read_new(session, last_entry_id)) is not None:
            new_hashes.append(chunk.hashes)
            new_ids.append(chunk.ids)
            disabled += chunk.disabled
            last_entry_id = chunk.last_entry_id

        # Replay the change log, collapsed to each entry's last state: one pass per direction.
        # The upper bound is read first: under READ COMMITTED each statement sees newer commits,
        # and a change committed between the two reads must be left for the next sync.
        last_change = int(
            session.scalar(select(EntryChange.id).order_by(EntryChange.id.desc()).limit(1)) or 0
        )
        latest: dict[int, bool] = {}
        changes = 0
        for change in session.scalars(
            select(EntryChange)
            .where(
                EntryChange.id > self.state.last_change_id,
                EntryChange.id <= last_change,
                EntryChange.signal_type == self.signal_type,
            )
            .order_by(EntryChange.id)
            .execution_options(yield_per=10_000)
        ):
            latest[change.entry_id] = change.enabled
            changes += 1
        known = [(i, on) for i, on in latest.items() if i <= last_entry_id]
        return PendingSync(
            hashes=np.concatenate(new_hashes) if new_hashes else None,
            ids=np.concatenate(new_ids) if new_ids else None,
            disabled=disabled,
            last_entry_id=last_entry_id,
            enable=self._index_ids(session, [i for i, on in known if on]),
            disable=self._index_ids(session, [i for i, on in known if not on]),
            last_change_id=max(self.state.last_change_id, last_change),
            changes=changes,
        )

    def apply(self, pending: PendingSync) -> SyncCounts:
        """Bring the index and watermarks to what :meth:`fetch` read (in memory only)."""
        started = time.perf_counter()
        added = 0 if pending.ids is None else len(pending.ids)
        if pending.hashes is not None and pending.ids is not None and added:
            if len(self.index) == 0:
                # One build is far cheaper than many incremental adds (it sorts each table once).
                self.index = PDQIndex.build(pending.hashes, pending.ids)
            else:
                self.index.add(pending.hashes, pending.ids)
            if pending.disabled:
                self.index.disable(pending.disabled)
        self.state.last_entry_id = pending.last_entry_id
        if pending.enable:
            self.index.enable(pending.enable)
        if pending.disable:
            self.index.disable(pending.disable)
        self.state.last_change_id = pending.last_change_id
        if added or pending.changes:
            self.dirty = True
            log.info(
                "PDQ index synced: %d added, %d changes, %d entries, %.2fs",
                added,
                pending.changes,
                len(self.index),
                time.perf_counter() - started,
            )
        return SyncCounts(added, pending.changes, rebuilt=False)

    def save(self, directory: Path) -> None:
        """Write index and sync state together, replacing the old copy atomically."""
        directory.parent.mkdir(parents=True, exist_ok=True)
        staging = directory.with_name(directory.name + f".tmp-{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        if len(self.index.segment_sizes) > 1:
            self.index.compact()  # the next process loads one segment: full query speed
        self.index.save(staging / "index")
        (staging / SYNC_FILE).write_text(
            json.dumps(
                {
                    "format": SYNC_FORMAT,
                    "instance_id": self.state.instance_id,
                    "last_entry_id": self.state.last_entry_id,
                    "last_change_id": self.state.last_change_id,
                }
            )
        )
        old = directory.with_name(directory.name + f".old-{os.getpid()}")
        if directory.exists():
            directory.rename(old)
        staging.rename(directory)
        shutil.rmtree(old, ignore_errors=True)
        self.dirty = False
