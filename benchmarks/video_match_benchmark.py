"""Matching a long video against a large bank of video frame hashes.

Target (issue 3): a 1-hour query (3,600 frame hashes) against 10M banked frame hashes in <= 3 s.
The bank is synthetic: random frame hashes grouped into 1-hour "videos" (ids entry << 20 | frame),
with one planted banked video whose frames the query carries with a few bits flipped (distances
up to 20). Compared in the same run with brute force (numpy, over a sample of query frames,
extrapolated) for the same lookups.

    python benchmarks/video_match_benchmark.py --frames 10000000 --query-frames 3600
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from sqlalchemy import select

from brightline.banks import service
from brightline.banks.models import BankEntry
from brightline.banks.records import EntryRecord
from brightline.index import PDQIndex
from brightline.matching.index_sync import video_frame_id
from brightline.matching.video import VideoThresholds, find_video_matches
from brightline.signals import default_registry
from brightline.signals.video import VideoFrameHash, VideoHash, encode_video_hash
from brightline.storage import create_engine_for, session_factory, upgrade_database

POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def planted_query(rng: np.random.Generator, target: np.ndarray, max_flips: int) -> np.ndarray:
    query = target.copy()
    for row in query:
        for bit in rng.choice(256, size=int(rng.integers(0, max_flips + 1)), replace=False):
            row[bit // 8] ^= 1 << (7 - bit % 8)
    return query


def video_of(hashes: np.ndarray) -> VideoHash:
    return VideoHash(
        frames=tuple(
            VideoFrameHash(row.tobytes().hex(), 100, float(second))
            for second, row in enumerate(hashes)
        ),
        duration=float(len(hashes)),
        frame_rate_sampled=1.0,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=10_000_000)
    parser.add_argument("--query-frames", type=int, default=3600)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    per_video = args.query_frames
    videos = max(1, args.frames // per_video)
    hashes = rng.integers(0, 256, size=(videos * per_video, 32), dtype=np.uint8)
    target = hashes[:per_video]  # the banked video the query is a copy of
    query = video_of(planted_query(rng, target, 20))

    engine = create_engine_for("sqlite://")
    upgrade_database(engine)
    registry = default_registry()
    with session_factory(engine).begin() as session:
        # The planted video goes through the real bank service; the rest exist only in the index.
        service.create_bank(session=session, name="BENCH")
        service.add_signals(
            session=session,
            bank_name="BENCH",
            records=[EntryRecord("vpdq", encode_video_hash(video_of(target)))],
            registry=registry,
        )
        planted = session.scalar(select(BankEntry.id))
        if planted is None:
            raise SystemExit("the planted video was not stored")
        ids = np.array(
            [video_frame_id(planted + v, f) for v in range(videos) for f in range(per_video)],
            dtype=np.int64,
        )
        started = time.perf_counter()
        index = PDQIndex.build(hashes, ids)
        build = time.perf_counter() - started
        timings = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            found = find_video_matches(
                session=session, video=query, frame_index=index, thresholds=VideoThresholds()
            )
            timings.append(time.perf_counter() - started)
    [match] = found
    sample = np.frombuffer(
        bytes.fromhex("".join(f.pdq for f in query.frames[:20])), dtype=np.uint8
    ).reshape(-1, 32)
    started = time.perf_counter()
    for row in sample:
        POPCOUNT[np.bitwise_xor(hashes, row)].sum(axis=1, dtype=np.uint16)
    brute = (time.perf_counter() - started) / len(sample) * len(query.frames)

    ours = statistics.median(timings)
    print(
        f"{'bank frames':>12} {'query frames':>13} {'build s':>8} {'match s':>8} "
        f"{'brute force s':>14} {'speed-up':>9} {'coverage q/t':>13} {'memory MB':>10}"
    )
    print(
        f"{len(hashes):>12,} {len(query.frames):>13,} {build:>8.1f} {ours:>8.2f} "
        f"{brute:>14.1f} {brute / ours:>8.0f}x "
        f"{match.detail.query_coverage:>6.0%}/{match.detail.target_coverage:<6.0%} "
        f"{index.memory_bytes() / 1e6:>10.0f}"
    )
    print(
        "brute force: numpy popcount over every bank frame, timed on 20 query frames and "
        "extrapolated"
    )


if __name__ == "__main__":
    main()
