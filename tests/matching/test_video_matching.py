"""Videos banked by vPDQ and matched through the frame index, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from brightline.banks import service
from brightline.banks.records import EntryRecord
from brightline.matching import MatchResult, MatchStatus, match_content
from brightline.matching.index_sync import SyncedPDQIndex
from brightline.signals import HashingLimits, default_registry, hash_file
from brightline.signals.video import decode_video_hash, encode_video_hash
from tests.video_factories import resize_half, synthetic_frames, transcode, write_video

REGISTRY = default_registry()
LIMITS = HashingLimits()


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("videos")
    original = write_video(folder / "original.mp4", synthetic_frames(3, 320, 240, 30, 20))
    return {
        "original": original,
        "resized": transcode(original, folder / "resized.mp4", transform=resize_half),
        "clip": transcode(original, folder / "clip.mp4", start=5.0, end=10.0),
        "half_rate": transcode(original, folder / "half.mp4", fps=15, keep_every=2),
        "unrelated": write_video(folder / "other.mp4", synthetic_frames(99, 320, 240, 30, 12)),
    }


def _bank(sessions: sessionmaker[Session], path: Path) -> None:
    content = hash_file(path, limits=LIMITS)
    assert content.video is not None
    with sessions.begin() as session:
        service.create_bank(session=session, name="V")
        report = service.add_signals(
            session=session,
            bank_name="V",
            registry=REGISTRY,
            records=[EntryRecord("vpdq", encode_video_hash(content.video), classification="A2")],
        )
        assert report.added == 1


def _match(sessions: sessionmaker[Session], path: Path) -> MatchResult:
    with sessions.begin() as session:
        frames, _ = SyncedPDQIndex.open(session=session, directory=None, signal_type="vpdq")
        return match_content(
            session=session,
            content=hash_file(path, limits=LIMITS),
            registry=REGISTRY,
            pdq_index=None,
            quality_threshold=50,
            video_index=frames.index,
        )


def test_altered_copies_match_and_clips_are_named(
    sessions: sessionmaker[Session], videos: dict[str, Path]
) -> None:
    _bank(sessions, videos["original"])
    kinds = {}
    for name in ("original", "resized", "half_rate", "clip"):
        result = _match(sessions, videos[name])
        assert result.status is MatchStatus.MATCH, name
        [match] = result.matches
        assert match.signal_type == "vpdq"
        assert match.classification == "A2"
        assert match.video is not None
        kinds[name] = match.video.kind
        assert match.video.query_coverage >= 0.8
    assert kinds == {"original": "full", "resized": "full", "half_rate": "full", "clip": "clip"}
    clip = _match(sessions, videos["clip"]).matches[0].video
    assert clip is not None
    assert clip.target_coverage < 0.5
    [span] = clip.ranges
    assert (span.query_start, span.query_end) == (0.0, 4.0)
    assert 4.0 <= span.target_start <= 6.0  # the clip was cut from 5 s on
    assert _match(sessions, videos["unrelated"]).status is MatchStatus.NO_MATCH


def test_disabled_video_entries_stop_matching(
    sessions: sessionmaker[Session], videos: dict[str, Path]
) -> None:
    _bank(sessions, videos["original"])
    with sessions.begin() as session:
        service.update_bank(session=session, name="V", enabled=False)
    assert _match(sessions, videos["resized"]).status is MatchStatus.NO_MATCH


def test_vpdq_entries_export_and_reimport_losslessly(
    sessions: sessionmaker[Session], videos: dict[str, Path]
) -> None:
    _bank(sessions, videos["original"])
    with sessions.begin() as session:
        [exported] = list(service.iter_entries(session=session, bank_name="V"))
        service.create_bank(session=session, name="W")
        report = service.import_records(
            session=session,
            bank_name="W",
            records=[exported, exported],
            registry=REGISTRY,
            source="export.csv",
        )
    assert (report.added, report.unchanged) == (1, 1)
    original = hash_file(videos["original"], limits=LIMITS).video
    assert decode_video_hash(exported.value) == original
