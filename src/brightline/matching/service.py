"""Match hashed content against the banks.

Exact signal types (md5, sha1, sha256) are looked up in the database's (signal_type, value)
index. PDQ goes through the in-memory :class:`PDQIndex`, queried with every dihedral variant of the
content's hash (rotations and flips) unless that is turned off. Every candidate is then checked
against the database row: the entry and its bank must still be enabled, and the distance must be
within *that bank's* threshold, so a disable takes effect immediately whatever the index holds.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from brightline.banks.models import Bank, BankEntry
from brightline.banks.service import entries_by_ids, exact_matches
from brightline.index import PDQIndex
from brightline.matching.video import VideoMatchDetail, VideoThresholds, find_video_matches
from brightline.signals import HashedContent, MatchKind, Signal
from brightline.signals.pdq import DIHEDRAL_ORDER
from brightline.signals.registry import SignalTypeRegistry
from brightline.signals.video import MIN_QUALITY, decode_video_hash

DEFAULT_VIDEO_THRESHOLDS = VideoThresholds()


class MatchStatus(StrEnum):
    MATCH = "match"
    NO_MATCH = "no_match"
    LOW_QUALITY = "low_quality"
    """Nothing matched and the PDQ hash was too weak to trust a "no match"."""
    UNHASHABLE = "unhashable"
    """Nothing matched and the content could not be hashed perceptually."""


@dataclass(frozen=True, slots=True)
class Match:
    bank: str
    bank_id: int
    entry_id: int
    signal_type: str
    signal_version: int
    value: str
    distance: int
    classification: str | None
    category: str | None
    list_name: str | None
    external_id: str | None
    series: str | None
    transform: str | None = None
    """For PDQ: which variant of the content matched: ``identity`` when unaltered, a dihedral
    name (``rotate90``, ``flip_y``, ...) or ``border_cropped`` (uniform borders removed)."""
    video: VideoMatchDetail | None = None
    """For vPDQ: coverage on both sides, full/clip/contains, and the matched time ranges."""


@dataclass(frozen=True, slots=True)
class MatchResult:
    content: HashedContent
    matches: tuple[Match, ...]
    low_quality: bool

    @property
    def status(self) -> MatchStatus:
        if self.matches:
            return MatchStatus.MATCH
        if self.content.unhashable is not None:
            return MatchStatus.UNHASHABLE
        if self.low_quality:
            return MatchStatus.LOW_QUALITY
        return MatchStatus.NO_MATCH


def pdq_query_distance(*, session: Session, bank_names: Collection[str] | None = None) -> int:
    """The largest threshold of the enabled banks asked for: how far the index must look."""
    query = select(func.max(Bank.pdq_threshold)).where(Bank.enabled.is_(True))
    if bank_names is not None:
        query = query.where(Bank.name.in_(list(bank_names)))
    return int(session.scalar(query) or 0)


def _match_from(
    entry: BankEntry,
    bank: Bank,
    distance: int,
    transform: str | None,
    video: VideoMatchDetail | None = None,
) -> Match:
    return Match(
        bank=bank.name,
        bank_id=bank.id,
        entry_id=entry.id,
        signal_type=entry.signal_type,
        signal_version=entry.signal_version,
        value=entry.value,
        distance=distance,
        classification=entry.classification,
        category=entry.category,
        list_name=entry.list_name,
        external_id=entry.external_id,
        series=entry.series,
        transform=transform,
        video=video,
    )


def match_content(
    *,
    session: Session,
    content: HashedContent,
    registry: SignalTypeRegistry,
    pdq_index: PDQIndex | None,
    quality_threshold: int,
    dihedral: bool = True,
    max_distance: int | None = None,
    bank_names: Collection[str] | None = None,
    video_index: PDQIndex | None = None,
    video_thresholds: VideoThresholds = DEFAULT_VIDEO_THRESHOLDS,
) -> MatchResult:
    """Every match of ``content`` in enabled banks, best (smallest distance) first.

    ``max_distance`` is how far to query the PDQ index (default: the largest enabled bank
    threshold, read from the database); callers scanning many files pass it once.
    ``bank_names`` restricts matching to those banks.
    """
    exact = [
        (signal.signal_type, signal.value)
        for signal in content.signals
        if signal.signal_type in registry
        and registry.get(signal.signal_type).match_kind is MatchKind.EXACT
    ]
    matches = [
        _match_from(entry, bank, 0, None)
        for entry, bank in exact_matches(session=session, signals=exact)
    ]

    pdq = content.signal("pdq")
    low_quality = pdq is not None and (pdq.quality or 0) < quality_threshold
    if pdq is not None and not low_quality and pdq_index is not None and len(pdq_index):
        if max_distance is None:
            max_distance = pdq_query_distance(session=session, bank_names=bank_names)
        variants = content.pdq_dihedral if dihedral and content.pdq_dihedral else (pdq.value,)
        names = DIHEDRAL_ORDER[: len(variants)]
        if content.pdq_border_cropped is not None:
            variants = (*variants, content.pdq_border_cropped)
            names = (*names, "border_cropped")
        queries = np.frombuffer(bytes.fromhex("".join(variants)), dtype=np.uint8).reshape(-1, 32)
        best: dict[int, tuple[int, str]] = {}
        for number, found in enumerate(pdq_index.query_many(queries, max_distance)):
            for entry_id, distance in found:
                if entry_id not in best or distance < best[entry_id][0]:
                    best[entry_id] = (distance, names[number])
        for entry_id, (entry, bank) in entries_by_ids(session=session, ids=best).items():
            distance, transform = best[entry_id]
            if entry.signal_type == "pdq" and distance <= bank.pdq_threshold:
                matches.append(_match_from(entry, bank, distance, transform))

    if content.video is not None:
        low_quality = not any(f.quality >= MIN_QUALITY for f in content.video.frames)
        if video_index is not None:
            candidates = {
                candidate.entry_id: candidate
                for candidate in find_video_matches(
                    session=session,
                    video=content.video,
                    frame_index=video_index,
                    thresholds=video_thresholds,
                )
            }
            for entry_id, (entry, bank) in entries_by_ids(session=session, ids=candidates).items():
                video_hit = candidates[entry_id]
                matches.append(_match_from(entry, bank, video_hit.distance, None, video_hit.detail))

    if bank_names is not None:
        matches = [match for match in matches if match.bank in bank_names]
    matches.sort(key=lambda m: (m.distance, m.bank, m.entry_id))
    return MatchResult(content=content, matches=tuple(matches), low_quality=low_quality)


def content_from_hash(
    *, registry: SignalTypeRegistry, signal_type: str, value: str
) -> HashedContent:
    """What :func:`match_content` needs to look up a hash computed elsewhere.

    The value is validated and normalised by its signal type (:class:`InvalidInput` if it is not
    a valid hash). A precomputed PDQ hash carries no quality, so it is trusted as given, and its
    rotations cannot be derived from the bits alone: only the identity is looked up.
    """
    kind = registry.get(signal_type.strip().lower())
    normalised = kind.normalize(value)
    if kind.name == "vpdq":
        return HashedContent(signals=(), video=decode_video_hash(normalised))
    quality = 100 if kind.name == "pdq" else None
    return HashedContent(signals=(Signal(kind.name, kind.version, normalised, quality),))
