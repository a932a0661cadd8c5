"""Open the PDQ index for a command and keep its on-disk copy current."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from brightline.cli.context import CliContext
from brightline.matching.index_sync import SyncedPDQIndex

log = logging.getLogger(__name__)


def open_pdq_index(obj: CliContext, session: Session) -> SyncedPDQIndex:
    """Load, sync and (if anything changed) save the index, so the next command starts fast."""
    directory = obj.settings.index_dir / "pdq"
    synced, _counts = SyncedPDQIndex.open(session=session, directory=directory)
    if synced.dirty:
        try:
            synced.save(directory)
        except OSError as exc:
            # Matching can go on from memory; only the next start is slower.
            log.warning("could not save the PDQ index: %s", exc.strerror)
    return synced
