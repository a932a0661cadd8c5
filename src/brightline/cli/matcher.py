"""Open the PDQ index for a command and keep its on-disk copy current."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from brightline.cli.context import CliContext
from brightline.index import PDQIndex
from brightline.matching.index_sync import PDQ_SIGNAL, VIDEO_SIGNAL, SyncedPDQIndex

log = logging.getLogger(__name__)


def open_pdq_index(
    obj: CliContext, session: Session, signal_type: str = PDQ_SIGNAL
) -> SyncedPDQIndex:
    """Load, sync and (if anything changed) save an index, so the next command starts fast.

    ``pdq`` is the image index; ``vpdq`` the index of banked videos' frames.
    """
    directory = obj.settings.index_dir / signal_type
    synced, _counts = SyncedPDQIndex.open(
        session=session, directory=directory, signal_type=signal_type
    )
    if synced.dirty:
        try:
            synced.save(directory)
        except OSError as exc:
            # Matching can go on from memory; only the next start is slower.
            log.warning("could not save the PDQ index: %s", exc.strerror)
    return synced


def open_indexes(obj: CliContext, session: Session) -> tuple[PDQIndex, PDQIndex]:
    """The image index and the video-frame index, both current."""
    return (
        open_pdq_index(obj, session, PDQ_SIGNAL).index,
        open_pdq_index(obj, session, VIDEO_SIGNAL).index,
    )
