"""Build the demo bank, make altered copies and decoys, scan them, and report recall."""

from __future__ import annotations

import contextlib
import shutil
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from brightline.banks import service
from brightline.banks.records import EntryRecord
from brightline.demo.standin_videos import (
    letterbox,
    resize_half,
    synthetic_frames,
    transcode,
    write_video,
)
from brightline.demo.standins import ALTERATIONS, altered, standin_image
from brightline.errors import NotFound
from brightline.matching import MatchStatus, match_content
from brightline.matching.index_sync import SyncedPDQIndex
from brightline.matching.video import VideoMatchDetail
from brightline.scanning import hash_paths, iter_files
from brightline.settings import Settings
from brightline.signals import HashingLimits, hash_file
from brightline.signals.registry import SignalTypeRegistry
from brightline.signals.video import encode_video_hash

DEMO_BANK = "DEMO-STAND-INS"


@dataclass
class DemoReport:
    banked: int = 0
    per_alteration: dict[str, list[int | None]] = field(default_factory=lambda: defaultdict(list))
    """alteration → best PDQ distance per altered copy (None = not matched)."""
    decoys: int = 0
    false_matches: int = 0
    scan_seconds: float = 0.0
    files_scanned: int = 0
    videos_banked: int = 0
    per_video_alteration: dict[str, list[VideoMatchDetail | None]] = field(
        default_factory=lambda: defaultdict(list)
    )
    """video alteration → the match detail per altered copy (None = not matched)."""
    video_decoys: int = 0
    video_false_matches: int = 0

    @property
    def recall(self) -> float:
        results = [d for ds in self.per_alteration.values() for d in ds]
        return sum(d is not None for d in results) / len(results) if results else 0.0

    def median_distance(self, alteration: str) -> float | None:
        found = [d for d in self.per_alteration[alteration] if d is not None]
        return statistics.median(found) if found else None


def _write(image_path: Path, alteration: str | None, seed: int) -> None:
    image = standin_image(seed)
    if alteration is not None:
        image = altered(image, alteration)
    quality = 30 if alteration == "reencode_q30" else 90
    image.save(image_path, "JPEG", quality=quality)


VIDEO_ALTERATIONS = ("reencode_150k", "resize_50", "clip_5s", "fps_15", "letterbox")
VIDEO_SIZE = (256, 192)
VIDEO_SECONDS = 12


def _write_videos(originals: Path, to_scan: Path, count: int, decoys: int) -> None:
    """Stand-in videos and the kinds of change re-uploads carry (generated, benign)."""
    width, height = VIDEO_SIZE
    for seed in range(count):
        source = write_video(
            originals / f"standin-video-{seed:02d}.mp4",
            synthetic_frames(500 + seed, width, height, 30, VIDEO_SECONDS),
        )
        stem = to_scan / f"standin-video-{seed:02d}"
        transcode(source, Path(f"{stem}-reencode_150k.mp4"), bit_rate=150_000)
        transcode(source, Path(f"{stem}-resize_50.mp4"), transform=resize_half)
        transcode(source, Path(f"{stem}-clip_5s.mp4"), start=4.0, end=9.0)
        transcode(source, Path(f"{stem}-fps_15.mp4"), fps=15, keep_every=2)
        transcode(source, Path(f"{stem}-letterbox.mp4"), transform=letterbox)
    for number in range(decoys):
        write_video(
            to_scan / f"decoy-video-{number:02d}.mp4",
            synthetic_frames(9_000 + number, width, height, 30, VIDEO_SECONDS),
        )


def run_demo(
    *,
    workdir: Path,
    sessions: sessionmaker[Session],
    registry: SignalTypeRegistry,
    settings: Settings,
    banked: int = 20,
    decoys: int = 40,
    videos: int = 3,
    video_decoys: int = 2,
    workers: int = 1,
) -> DemoReport:
    """Run the whole demo in ``workdir`` (recreated) against the configured database."""
    shutil.rmtree(workdir, ignore_errors=True)
    originals, to_scan = workdir / "bank-originals", workdir / "to-scan"
    originals.mkdir(parents=True)
    to_scan.mkdir()
    limits = HashingLimits.from_settings(settings)
    report = DemoReport(
        banked=banked, decoys=decoys, videos_banked=videos, video_decoys=video_decoys
    )
    _write_videos(originals, to_scan, videos, video_decoys)

    for seed in range(banked):
        _write(originals / f"standin-{seed:03d}.jpg", None, seed)
        for alteration in ALTERATIONS:
            _write(to_scan / f"standin-{seed:03d}-{alteration}.jpg", alteration, seed)
    for number in range(decoys):
        _write(to_scan / f"decoy-{number:03d}.jpg", None, 10_000 + number)

    with sessions.begin() as session:
        with contextlib.suppress(NotFound):
            service.delete_bank(session=session, name=DEMO_BANK)
        service.create_bank(
            session=session,
            name=DEMO_BANK,
            description="Generated benign stand-in images for the demo (not real material).",
        )
        records = []
        for number, path in enumerate(sorted(originals.iterdir()), start=1):
            content = hash_file(path, limits=limits, dihedral=False)
            records += [
                EntryRecord(s.signal_type, s.value, external_id=path.stem, line=number)
                for s in content.signals
            ]
            if content.video is not None:
                video_value = encode_video_hash(content.video)
                records.append(EntryRecord("vpdq", video_value, external_id=path.stem, line=number))
        service.add_signals(
            session=session, bank_name=DEMO_BANK, records=records, registry=registry
        )

    started = time.monotonic()
    with sessions.begin() as session:
        index, _ = SyncedPDQIndex.open(session=session, directory=None)
        frames, _ = SyncedPDQIndex.open(session=session, directory=None, signal_type="vpdq")
        paths = [p for p in iter_files([to_scan]) if isinstance(p, Path)]
        for outcome in hash_paths(paths, limits=limits, dihedral=True, workers=workers):
            if outcome.content is None:
                continue
            result = match_content(
                session=session,
                content=outcome.content,
                registry=registry,
                pdq_index=index.index,
                quality_threshold=settings.pdq_quality_threshold,
                bank_names={DEMO_BANK},
                video_index=frames.index,
            )
            report.files_scanned += 1
            name = outcome.path.stem
            if outcome.content.video is not None:
                details = [m.video for m in result.matches if m.video is not None]
                if name.startswith("decoy-"):
                    report.video_false_matches += bool(details)
                else:
                    report.per_video_alteration[name.split("-", 3)[3]].append(
                        details[0] if details else None
                    )
                continue
            pdq = [m.distance for m in result.matches if m.signal_type == "pdq"]
            best = min(pdq) if pdq else None
            if name.startswith("decoy-"):
                report.false_matches += result.status is MatchStatus.MATCH
            else:
                report.per_alteration[name.split("-", 2)[2]].append(best)
    report.scan_seconds = time.monotonic() - started
    return report
