"""Video matching: frame lookups in the frame index, then video-level coverage.

Each usable query frame (PDQ quality >= 50) is looked up in the frame index (every usable frame
of every banked video, see :mod:`brightline.matching.index_sync`). Hits are grouped by banked
video, giving vPDQ's two shares:

- *query coverage*: the share of the query's usable frames within distance 31 of some frame of
  the banked video;
- *target coverage*: the share of the banked video's usable frames so matched.

A banked video matches when query coverage >= ``query_threshold`` (vPDQ's default 80%) and target
coverage >= ``target_threshold`` (vPDQ's default 0%) -- or when target coverage alone reaches
``contains_threshold``: an upload that *contains* a banked clip inside a longer video. The kind
says which: ``full`` (both shares high), ``clip`` (the query is a short part of the banked video)
or ``contains``. Matched time ranges let a reviewer jump straight to them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from brightline.banks.models import VideoSignature
from brightline.index import PDQIndex
from brightline.matching.index_sync import split_video_frame_id
from brightline.signals.video import MATCH_DISTANCE, MIN_QUALITY, VideoHash

FULL_COVERAGE = 0.8
"""Above this share on both sides a match is ``full``; below it on the bank side, a ``clip``."""


@dataclass(frozen=True, slots=True)
class VideoThresholds:
    query_threshold: float = 0.8
    target_threshold: float = 0.0
    contains_threshold: float = 0.8
    frame_distance: int = MATCH_DISTANCE


@dataclass(frozen=True, slots=True)
class TimeRange:
    """A stretch of the query matched to a stretch of the banked video (seconds)."""

    query_start: float
    query_end: float
    target_start: float
    target_end: float


@dataclass(frozen=True, slots=True)
class VideoMatchDetail:
    kind: str
    """``full``, ``clip`` or ``contains`` (see the module docstring)."""
    query_coverage: float
    target_coverage: float
    matched_frames: int
    ranges: tuple[TimeRange, ...]


@dataclass(frozen=True, slots=True)
class VideoCandidate:
    entry_id: int
    distance: int
    """The smallest frame distance (0 = some frame identical)."""
    detail: VideoMatchDetail


def _ranges(
    pairs: list[tuple[int, int]], query: VideoHash, target: VideoHash, gap: float
) -> tuple[TimeRange, ...]:
    """Runs of matched query frames (no more than ``gap`` seconds apart) with their targets."""
    ranges: list[TimeRange] = []
    best_target: dict[int, list[int]] = defaultdict(list)
    for query_frame, target_frame in pairs:
        best_target[query_frame].append(target_frame)
    run: list[int] = []
    for query_frame in sorted(best_target):
        timestamp = query.frames[query_frame].timestamp
        if run and timestamp - query.frames[run[-1]].timestamp > gap:
            ranges.append(_range(run, best_target, query, target))
            run = []
        run.append(query_frame)
    if run:
        ranges.append(_range(run, best_target, query, target))
    return tuple(ranges)


def _range(
    run: list[int], targets: dict[int, list[int]], query: VideoHash, target: VideoHash
) -> TimeRange:
    target_times = [target.frames[t].timestamp for q in run for t in targets[q]]
    return TimeRange(
        query_start=query.frames[run[0]].timestamp,
        query_end=query.frames[run[-1]].timestamp,
        target_start=min(target_times),
        target_end=max(target_times),
    )


def find_video_matches(
    *,
    session: Session,
    video: VideoHash,
    frame_index: PDQIndex,
    thresholds: VideoThresholds,
) -> list[VideoCandidate]:
    """Banked videos matching ``video`` (enabled-ness is checked by the caller)."""
    usable = [n for n, frame in enumerate(video.frames) if frame.quality >= MIN_QUALITY]
    if not usable or len(frame_index) == 0:
        return []
    queries = np.frombuffer(
        bytes.fromhex("".join(video.frames[n].pdq for n in usable)), dtype=np.uint8
    ).reshape(-1, 32)
    hits: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for query_frame, found in zip(
        usable, frame_index.query_many(queries, thresholds.frame_distance), strict=True
    ):
        for frame_id, distance in found:
            entry_id, target_frame = split_video_frame_id(frame_id)
            hits[entry_id].append((query_frame, target_frame, distance))
    if not hits:
        return []
    signatures = dict(
        session.execute(
            select(VideoSignature.entry_id, VideoSignature.frames).where(
                VideoSignature.entry_id.in_(list(hits))
            )
        ).all()
    )
    gap = 1.5 / video.frame_rate_sampled if video.frame_rate_sampled > 0 else 1.5
    candidates = []
    for entry_id, entry_hits in hits.items():
        if entry_id not in signatures:
            continue
        target = VideoHash.from_bytes(signatures[entry_id])
        target_usable = sum(frame.quality >= MIN_QUALITY for frame in target.frames)
        query_coverage = len({q for q, _, _ in entry_hits}) / len(usable)
        target_coverage = len({t for _, t, _ in entry_hits}) / max(target_usable, 1)
        if query_coverage >= thresholds.query_threshold:
            if target_coverage < thresholds.target_threshold:
                continue
            kind = "full" if target_coverage >= FULL_COVERAGE else "clip"
        elif target_coverage >= thresholds.contains_threshold:
            kind = "contains"
        else:
            continue
        detail = VideoMatchDetail(
            kind=kind,
            query_coverage=round(query_coverage, 4),
            target_coverage=round(target_coverage, 4),
            matched_frames=len({q for q, _, _ in entry_hits}),
            ranges=_ranges([(q, t) for q, t, _ in entry_hits], video, target, gap),
        )
        candidates.append(VideoCandidate(entry_id, min(d for _, _, d in entry_hits), detail))
    return candidates
