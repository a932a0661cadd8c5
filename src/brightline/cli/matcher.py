"""Open the match indexes for a command and keep their on-disk copies current."""

from __future__ import annotations

from sqlalchemy.orm import Session

from brightline.cli.context import CliContext
from brightline.index import PDQIndex
from brightline.matching.indexes import MatchIndexes


def open_indexes(obj: CliContext, session: Session) -> tuple[PDQIndex, PDQIndex]:
    """The image index and the video-frame index, both current (and saved if they changed)."""
    indexes = MatchIndexes.open(session=session, index_dir=obj.settings.index_dir)
    return indexes.read(lambda images, videos: (images, videos))
