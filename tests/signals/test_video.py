"""Video hashing (vPDQ signal layer) on benign generated videos.

The videos are moving coloured shapes over panning 1/f noise with a scene change every few seconds,
synthesised with numpy and encoded with PyAV (H.264). The generator lives in
``tests/video_factories.py`` (also used by ``benchmarks/video_benchmark.py``).
"""

from __future__ import annotations

import base64
import contextlib
from pathlib import Path

import av
import numpy as np
import pdqhash
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brightline.errors import InvalidInput, Unhashable
from brightline.signals.pdq import bits_to_hex
from brightline.signals.video import (
    VideoFrameHash,
    VideoHash,
    VpdqSignalType,
    crop_uniform_borders,
    decode_video_hash,
    encode_video_hash,
    hash_video_file,
    is_probably_video,
    match_videos,
    nearest_frame_distances,
)
from tests.video_factories import (
    decoded_frames,
    letterbox,
    pink_noise,
    resize_half,
    synthetic_frames,
    transcode,
    write_video,
)


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("videos")


@pytest.fixture(scope="module")
def original(videos: Path) -> Path:
    """20 s, 320x240, 30 fps H.264."""
    return write_video(videos / "original.mp4", synthetic_frames(1, 320, 240, 30, 20))


@pytest.fixture(scope="module")
def original_hash(original: Path) -> VideoHash:
    return hash_video_file(original)


# --- sampling --------------------------------------------------------------------------------


def test_samples_one_frame_per_second_at_whole_seconds(original_hash: VideoHash) -> None:
    timestamps = [f.timestamp for f in original_hash.frames]
    assert timestamps == [float(s) for s in range(20)]
    assert original_hash.frame_rate_sampled == 1.0
    assert original_hash.duration == pytest.approx(20.0, abs=0.1)
    assert all(len(f.pdq) == 64 and f.quality >= 50 for f in original_hash.frames)


def test_sample_rate_is_configurable(original: Path) -> None:
    result = hash_video_file(original, sample_fps=2.0)
    assert [f.timestamp for f in result.frames] == [s / 2 for s in range(40)]


def test_frame_hashes_equal_pdqhash_on_the_same_rgb_frames(
    original: Path, original_hash: VideoHash
) -> None:
    """Reference agreement: each sampled frame hashes exactly like pdqhash on its RGB pixels."""
    expected = []
    for index, (_seconds, rgb) in enumerate(decoded_frames(original)):
        if index % 30 == 0:
            bits, quality = pdqhash.compute(rgb)
            expected.append((bits_to_hex(bits), int(quality)))
    unhashed = hash_video_file(original, crop_borders=False)
    assert [(f.pdq, f.quality) for f in unhashed.frames] == expected
    assert [(f.pdq, f.quality) for f in original_hash.frames] == expected  # nothing to crop


def test_variable_frame_rate_is_sampled_by_presentation_time(tmp_path: Path) -> None:
    # 10 fps for 2.5 s, a 3.2 s freeze (one frame shown), then 50 fps for 2 s.
    pts = [i * 100 for i in range(25)] + [2500 + 3200 + i * 20 for i in range(100)]
    frames = list(synthetic_frames(2, 160, 120, 25, len(pts) / 25, scene_seconds=1))
    path = write_video(tmp_path / "vfr.mkv", frames, pts_ms=pts)
    result = hash_video_file(path)
    expected, next_sample = [], 0.0
    for ms in pts:
        if ms / 1000 >= next_sample - 1e-3:
            expected.append(ms / 1000)
            next_sample = (ms // 1000) + 1.0
    assert [f.timestamp for f in result.frames] == expected
    assert expected[:4] == [0.0, 1.0, 2.0, 5.7]  # the freeze is one sample, not a burst


def test_rotation_metadata_is_applied(tmp_path: Path) -> None:
    upright = list(synthetic_frames(3, 160, 96, 10, 3, scene_seconds=1))
    plain = write_video(tmp_path / "upright.mp4", upright, fps=10)
    # Stored turned clockwise; the display matrix says "turn 90 degrees counter-clockwise".
    stored = [np.ascontiguousarray(np.rot90(f, -1)) for f in upright]
    rotated = write_video(tmp_path / "rotated.mp4", stored, fps=10, rotation=90)
    with av.open(str(rotated)) as container:
        first = next(container.decode(video=0))
        assert first.rotation == 90
        assert (first.width, first.height) == (96, 160)
    a, b = hash_video_file(plain), hash_video_file(rotated)
    distances = nearest_frame_distances([f.pdq for f in b.frames], [f.pdq for f in a.frames])
    assert distances.max() <= 12
    ignored = hash_video_file(rotated, crop_borders=False)
    unturned = VideoHash(
        frames=tuple(
            VideoFrameHash(bits_to_hex(pdqhash.compute(f)[0]), 100, i) for i, f in enumerate(stored)
        ),
        duration=None,
        frame_rate_sampled=1,
    )
    assert ignored != unturned


def test_odd_frame_sizes(tmp_path: Path) -> None:
    frames = list(synthetic_frames(4, 321, 239, 10, 3))
    path = write_video(tmp_path / "odd.mkv", frames, fps=10, pix_fmt="yuv444p")
    result = hash_video_file(path, crop_borders=False)
    assert len(result.frames) == 3
    first = next(decoded_frames(path))[1]
    assert first.shape == (239, 321, 3)
    assert result.frames[0].pdq == bits_to_hex(pdqhash.compute(first)[0])


def test_tiny_video_is_hashed(tmp_path: Path) -> None:
    path = write_video(tmp_path / "tiny.mp4", synthetic_frames(5, 32, 32, 5, 2), fps=5)
    assert [f.timestamp for f in hash_video_file(path).frames] == [0.0, 1.0]


# --- failures --------------------------------------------------------------------------------


def _reason(path: Path, **kwargs: float) -> str:
    with pytest.raises(Unhashable) as caught:
        hash_video_file(path, **kwargs)  # type: ignore[arg-type]
    assert str(path.name) not in caught.value.detail  # never leak file names
    return caught.value.reason


def test_audio_only_file(tmp_path: Path) -> None:
    path = tmp_path / "tone.m4a"
    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_stream("aac", rate=44100)
        t = np.arange(1024 * 40) / 44100
        samples = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32).reshape(1, -1)
        for chunk in range(40):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(samples[:, chunk * 1024 : (chunk + 1) * 1024]),
                format="fltp",
                layout="mono",
            )
            frame.sample_rate = 44100
            frame.pts = chunk * 1024
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    assert _reason(path) == "no_video_stream"


def test_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    assert _reason(empty) == "empty"


def test_random_bytes(tmp_path: Path) -> None:
    path = tmp_path / "noise.bin"
    path.write_bytes(np.random.default_rng(0).bytes(50_000))
    assert _reason(path) == "not_a_video"


def test_truncated_mp4(original: Path, tmp_path: Path) -> None:
    data = original.read_bytes()
    path = tmp_path / "cut.mp4"
    path.write_bytes(data[: len(data) // 2])  # moov (the index) is at the end: lost
    assert _reason(path) == "truncated"


def test_truncated_matroska_keeps_the_frames_that_decoded(tmp_path: Path) -> None:
    full = write_video(tmp_path / "full.mkv", synthetic_frames(6, 160, 120, 10, 10), fps=10)
    data = full.read_bytes()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[: len(data) // 2])
    partial = hash_video_file(cut)
    assert 2 <= len(partial.frames) < 10
    complete = hash_video_file(full)
    assert partial.frames[:2] == complete.frames[:2]


def test_damaged_header(original: Path, tmp_path: Path) -> None:
    data = bytearray(original.read_bytes())
    data[16:4096] = bytes(4080)
    path = tmp_path / "damaged.mp4"
    path.write_bytes(bytes(data))
    assert _reason(path) in {"corrupt", "truncated", "empty"}


def test_limits(original: Path) -> None:
    assert _reason(original, max_pixels=1000) == "too_many_pixels"
    assert _reason(original, max_decode_seconds=1e-9) == "timeout"
    with pytest.raises(InvalidInput):
        hash_video_file(original, sample_fps=0)


def test_is_probably_video(original: Path, tmp_path: Path) -> None:
    assert is_probably_video(original.read_bytes()[:64])
    mkv = write_video(tmp_path / "a.mkv", synthetic_frames(7, 64, 64, 5, 1), fps=5)
    assert is_probably_video(mkv.read_bytes()[:64])
    assert is_probably_video(b"RIFF\x00\x00\x00\x00AVI LIST")
    assert is_probably_video(b"FLV\x01\x05")
    assert is_probably_video(bytes([0x47] + [0] * 187) * 3)
    assert not is_probably_video(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00")
    assert not is_probably_video(b"\x00\x00\x00\x18ftypM4A \x00\x00\x00\x00")
    assert not is_probably_video(b"\x89PNG\r\n\x1a\n")
    assert not is_probably_video(b"")


# --- de-duplication --------------------------------------------------------------------------


def test_static_scenes_are_deduplicated(tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    stills = [pink_noise(rng, 120, 160) for _ in range(2)]
    frames = [stills[0]] * 50 + [stills[1]] * 50  # 5 s of each still at 10 fps
    path = write_video(tmp_path / "slides.mp4", frames, fps=10, codec="libx264")
    every = hash_video_file(path, dedupe_distance=0)
    loose = hash_video_file(path, dedupe_distance=16)
    # Lossy coding makes repeats of a still differ by a few bits; a small distance folds them.
    assert len(loose.frames) == 2
    assert [f.timestamp for f in loose.frames] == [0.0, 5.0]
    assert 2 <= len(every.frames) <= 10
    distances = nearest_frame_distances(
        [f.pdq for f in every.frames], [f.pdq for f in loose.frames]
    )
    assert distances.max() <= 16


def test_dedupe_keeps_moving_content(original_hash: VideoHash, original: Path) -> None:
    assert len(hash_video_file(original, dedupe_distance=8).frames) == len(original_hash.frames)


# --- binary form and signal type -------------------------------------------------------------

_hex64 = st.binary(min_size=32, max_size=32).map(bytes.hex)
_frames = st.lists(
    st.tuples(_hex64, st.integers(0, 100), st.integers(0, 2**32 - 1)), max_size=20
).map(
    lambda rows: tuple(
        VideoFrameHash(pdq, quality, ms / 1000)
        for pdq, quality, ms in sorted(rows, key=lambda r: r[2])
    )
)


@settings(max_examples=200, deadline=None)
@given(
    frames=_frames,
    duration=st.none() | st.floats(0, 1e7, allow_nan=False),
    fps=st.floats(1e-3, 1e3, allow_nan=False),
)
def test_binary_round_trip(
    frames: tuple[VideoFrameHash, ...], duration: float | None, fps: float
) -> None:
    value = VideoHash(frames=frames, duration=duration, frame_rate_sampled=fps)
    data = value.to_bytes()
    assert len(data) == 28 + 37 * len(frames)
    assert VideoHash.from_bytes(data) == value
    assert decode_video_hash(encode_video_hash(value)) == value


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=200))
def test_from_bytes_rejects_junk_with_invalid_input(data: bytes) -> None:
    with contextlib.suppress(InvalidInput):  # anything else (struct.error, ...) fails
        VideoHash.from_bytes(data)


def test_from_bytes_rejects_malformed(original_hash: VideoHash) -> None:
    good = original_hash.to_bytes()
    assert VideoHash.from_bytes(good) == original_hash
    bad_inputs = [
        b"",
        b"XXXX" + good[4:],
        good[:4] + b"\x02" + good[5:],
        good[:-1],
        good + b"\x00",
        good[:28] + good[28:60] + b"\xff" + good[61:],  # quality 255
    ]
    for bad in bad_inputs:
        with pytest.raises(InvalidInput):
            VideoHash.from_bytes(bad)


def test_signal_type(original_hash: VideoHash) -> None:
    vpdq = VpdqSignalType()
    assert (vpdq.name, vpdq.version) == ("vpdq", 1)
    value = encode_video_hash(original_hash)
    spaced = value[:10] + "\n" + value[10:] + "  "
    assert vpdq.normalize(spaced) == value
    assert vpdq.distance(value, value) == 0
    other = VideoHash(
        frames=(VideoFrameHash("f" * 64, 100, 0.0),), duration=1.0, frame_rate_sampled=1.0
    )
    assert vpdq.distance(value, encode_video_hash(other)) == 100
    for bad in ["not base64!", base64.b64encode(b"BLVH").decode(), ""]:
        with pytest.raises(InvalidInput):
            vpdq.normalize(bad)


# --- borders ---------------------------------------------------------------------------------


def test_crop_uniform_borders_any_colour() -> None:
    picture = pink_noise(np.random.default_rng(9), 90, 120)
    framed = np.full((130, 200, 3), (30, 200, 90), dtype=np.uint8)
    framed[25:115, 50:170] = picture
    noise = np.random.default_rng(10).integers(-6, 7, framed.shape)
    noisy = np.clip(framed.astype(int) + noise, 0, 255).astype(np.uint8)
    noisy[25:115, 50:170] = picture
    assert np.array_equal(crop_uniform_borders(noisy), picture)
    assert crop_uniform_borders(picture).shape == picture.shape
    flat = np.zeros((50, 50, 3), dtype=np.uint8)
    assert crop_uniform_borders(flat).shape == flat.shape


# --- robustness evaluation -------------------------------------------------------------------


def _share_found(copy: VideoHash, source: VideoHash) -> float:
    nearest = nearest_frame_distances([f.pdq for f in copy.frames], [f.pdq for f in source.frames])
    return float(np.mean(nearest <= 31))


@pytest.mark.parametrize(
    ("name", "edit"),
    [
        ("low_bitrate", {"bit_rate": 100_000}),  # 1/16 of the original's 1.6 Mbit/s
        ("half_size", {"transform": resize_half}),
        ("trim_10s", {"start": 5.0, "end": 15.0}),
        ("15fps", {"fps": 15, "keep_every": 2}),
        ("letterbox", {"transform": letterbox}),
    ],
)
def test_altered_copies_match(
    name: str, edit: dict[str, object], original: Path, original_hash: VideoHash, videos: Path
) -> None:
    copy = transcode(original, videos / f"{name}.mp4", **edit)  # type: ignore[arg-type]
    copy_hash = hash_video_file(copy)
    assert _share_found(copy_hash, original_hash) >= 0.8
    if name == "letterbox":
        uncropped = hash_video_file(copy, crop_borders=False)
        plain = hash_video_file(original, crop_borders=False)
        mean_cropped = nearest_frame_distances(
            [f.pdq for f in copy_hash.frames], [f.pdq for f in original_hash.frames]
        ).mean()
        mean_uncropped = nearest_frame_distances(
            [f.pdq for f in uncropped.frames], [f.pdq for f in plain.frames]
        ).mean()
        assert mean_cropped + 30 < mean_uncropped
        assert _share_found(uncropped, plain) < 0.5


def test_unrelated_video_does_not_match(original_hash: VideoHash, videos: Path) -> None:
    other = write_video(videos / "unrelated.mp4", synthetic_frames(99, 320, 240, 30, 20))
    other_hash = hash_video_file(other)
    assert _share_found(other_hash, original_hash) < 0.05
    result = match_videos(other_hash, original_hash)
    assert result.query_share < 0.05
    assert result.target_share < 0.05
    assert match_videos(original_hash, original_hash).query_share == 1.0
