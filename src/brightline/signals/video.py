"""vPDQ-style perceptual video hashing: PDQ of frames sampled by time, decoded with PyAV.

Why this shape (see ``docs/video.md``):

* **Reference agreement.** Meta's vPDQ hashes a frame with the PDQ reference on its full-size RGB24
  pixels. We do the same (``pdqhash.compute`` on ``VideoFrame.to_ndarray(format="rgb24")``), so a
  frame hash here is a PDQ hash that any PDQ list or vPDQ hash can be compared with.
* **Sampling by presentation time**, not by frame index: the reference keeps every
  ``int(seconds_per_hash * avg_frame_rate)``-th decoded frame, which drifts on variable-frame-rate
  files (phone recordings, screen captures). We keep the first frame shown at or after each
  multiple of ``1 / sample_fps`` seconds. On constant-frame-rate files with an integral rate the
  two pick the same frames.
* **Bounded resources.** Frames are streamed from the decoder one at a time and only the sampled
  ones are converted to RGB; nothing holds more than the current frame. Decoding is bounded by a
  wall-clock budget checked after every frame, so a pathological file ends as
  ``Unhashable("timeout")`` instead of hanging a scan worker.
* **Display orientation.** Phones store portrait video sideways with a display matrix; the frame
  is rotated as a player would show it before hashing (like EXIF orientation for images).
* **Borders.** Letterboxing/pillarboxing is the commonest edit of re-shared video and moves PDQ far
  (it is a crop in reverse); uniform borders are cropped before hashing
  (:func:`crop_uniform_borders`).

Nothing here logs, and no error detail contains a file name or FFmpeg's own message (FFmpeg puts
the path into its errors).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import av
import av.error
import numpy as np
import numpy.typing as npt
import pdqhash

from brightline.errors import InvalidInput, Unhashable
from brightline.signals.base import MatchKind
from brightline.signals.image_decoding import CORRUPT, TOO_MANY_PIXELS, TRUNCATED
from brightline.signals.pdq import bits_to_hex

if TYPE_CHECKING:
    from pathlib import Path

    from av.container import InputContainer
    from av.video.frame import VideoFrame
    from av.video.stream import VideoStream

# --- stable Unhashable reasons (corrupt, truncated, too_many_pixels shared with images) --------

NOT_A_VIDEO: Final = "not_a_video"
NO_VIDEO_STREAM: Final = "no_video_stream"
UNSUPPORTED_CODEC: Final = "unsupported_codec"
TIMEOUT: Final = "timeout"
EMPTY: Final = "empty"

# --- defaults --------------------------------------------------------------------------------

DEFAULT_SAMPLE_FPS: Final = 1.0
"""vPDQ's default: one hash per second of video."""
DEFAULT_MAX_DECODE_SECONDS: Final = 600.0
DEFAULT_MAX_PIXELS: Final = 40_000_000
"""Per frame; 8K UHD (7680x4320, 33 Mpx) passes. RGB24 + PDQ temporaries cost ~30 B/pixel."""
DEFAULT_DEDUPE_DISTANCE: Final = 0
"""A sampled frame within this Hamming distance of the last *kept* frame is dropped.

0 drops exact repeats only (static scenes, slides), which can never change a match result.
A larger value shrinks hashes of slow videos further, but a query frame at distance ``d`` from
a dropped frame is only guaranteed to be within ``d + dedupe_distance`` of the kept one.
"""

MATCH_DISTANCE: Final = 31
"""PDQ frame match threshold recommended by Meta."""
MIN_QUALITY: Final = 50
"""Frames below this PDQ quality are ignored when matching (too little detail to trust)."""

_TIMESTAMP_EPSILON: Final = 1e-3
"""Seconds of slack when comparing a frame time with a sampling instant (float pts rounding)."""


# --- the hash --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VideoFrameHash:
    """The PDQ of one sampled frame, its quality (0-100) and presentation time (seconds)."""

    pdq: str
    quality: int
    timestamp: float


@dataclass(frozen=True, slots=True)
class VideoHash:
    """A video's vPDQ-style hash: de-duplicated sampled frame hashes in time order."""

    frames: tuple[VideoFrameHash, ...]
    duration: float | None
    """Seconds, from the container or stream header; None when neither states it."""
    frame_rate_sampled: float
    """The sampling rate used (frames per second of video)."""

    def to_bytes(self) -> bytes:
        """Compact binary form: a 28-byte header, then 37 bytes per frame.

        Header (little endian): magic ``BLVH``, format version (u8), two reserved bytes that must
        be zero (u8, u16), frame count (u32), sampling rate (f64), duration (f64, NaN = unknown).
        Frame: 32 bytes of PDQ (hex order), quality (u8), timestamp in milliseconds (u32).
        About 37 bytes per second of video at 1 fps, a third of vPDQ's text form.
        """
        duration = math.nan if self.duration is None else self.duration
        parts = [
            _HEADER.pack(
                _MAGIC, _FORMAT_VERSION, 0, 0, len(self.frames), self.frame_rate_sampled, duration
            )
        ]
        for frame in self.frames:
            parts.append(bytes.fromhex(frame.pdq))
            parts.append(_FRAME_TAIL.pack(frame.quality, round(frame.timestamp * 1000)))
        return b"".join(parts)

    @classmethod
    def from_bytes(cls, data: bytes) -> VideoHash:
        """Parse :meth:`to_bytes` output; raise :class:`InvalidInput` on anything malformed."""
        if not isinstance(data, bytes | bytearray | memoryview):
            raise InvalidInput("a video hash must be bytes")
        data = bytes(data)
        if len(data) < _HEADER.size:
            raise InvalidInput("video hash is shorter than its header")
        magic, version, reserved_a, reserved_b, count, fps, duration = _HEADER.unpack_from(data)
        if magic != _MAGIC:
            raise InvalidInput("not a video hash (bad magic)")
        if version != _FORMAT_VERSION:
            raise InvalidInput(f"unsupported video hash format version {version}")
        if reserved_a or reserved_b:
            raise InvalidInput("video hash reserved bytes are not zero")
        if len(data) != _HEADER.size + count * _FRAME_SIZE:
            raise InvalidInput("video hash length does not match its frame count")
        if not (math.isfinite(fps) and fps > 0):
            raise InvalidInput("video hash sampling rate must be positive")
        if math.isnan(duration):
            parsed_duration: float | None = None
        elif math.isfinite(duration) and duration >= 0:
            parsed_duration = duration
        else:
            raise InvalidInput("video hash duration must be non-negative")
        frames = []
        previous_ms = 0
        offset = _HEADER.size
        for _ in range(count):
            pdq = data[offset : offset + 32].hex()
            quality, ms = _FRAME_TAIL.unpack_from(data, offset + 32)
            offset += _FRAME_SIZE
            if quality > 100:
                raise InvalidInput("video hash frame quality exceeds 100")
            if ms < previous_ms:
                raise InvalidInput("video hash frame timestamps are not in order")
            previous_ms = ms
            frames.append(VideoFrameHash(pdq=pdq, quality=quality, timestamp=ms / 1000))
        return cls(frames=tuple(frames), duration=parsed_duration, frame_rate_sampled=fps)


_MAGIC: Final = b"BLVH"
_FORMAT_VERSION: Final = 1
_HEADER: Final = struct.Struct("<4sBBHIdd")
_FRAME_TAIL: Final = struct.Struct("<BI")
_FRAME_SIZE: Final = 32 + _FRAME_TAIL.size


# --- hashing ---------------------------------------------------------------------------------


def hash_video_file(
    path: Path,
    *,
    sample_fps: float = DEFAULT_SAMPLE_FPS,
    max_decode_seconds: float = DEFAULT_MAX_DECODE_SECONDS,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    dedupe_distance: int = DEFAULT_DEDUPE_DISTANCE,
    crop_borders: bool = True,
) -> VideoHash:
    """Hash the first video stream of the file at ``path``.

    Raises :class:`~brightline.errors.Unhashable` with one of the stable reasons
    ``not_a_video``, ``no_video_stream``, ``corrupt``, ``truncated``, ``unsupported_codec``,
    ``too_many_pixels``, ``timeout``, ``empty``. A file whose data stops part-way (a cut-off
    Matroska or fragmented MP4) yields the frames that did decode: for matching, a partial hash
    is worth more than none.
    """
    if not (math.isfinite(sample_fps) and sample_fps > 0):
        raise InvalidInput("sample_fps must be positive")
    if not max_decode_seconds > 0 or max_pixels < 1 or dedupe_distance < 0:
        raise InvalidInput("video hashing limits must be positive")
    frames: list[VideoFrameHash] = []
    with _open(path) as container:
        stream = _video_stream(container)
        duration = _duration(container, stream)
        last_kept: int | None = None
        for timestamp, rgb in sample_frames(
            container,
            stream,
            sample_fps=sample_fps,
            max_decode_seconds=max_decode_seconds,
            max_pixels=max_pixels,
        ):
            pixels = crop_uniform_borders(rgb) if crop_borders else rgb
            bits, quality = pdqhash.compute(pixels)
            pdq = bits_to_hex(bits)
            value = int(pdq, 16)
            if last_kept is not None and (value ^ last_kept).bit_count() <= dedupe_distance:
                continue
            last_kept = value
            frames.append(
                VideoFrameHash(pdq=pdq, quality=int(quality), timestamp=round(timestamp, 3))
            )
    if not frames:
        raise Unhashable(EMPTY, "the video stream has no decodable frames")
    return VideoHash(frames=tuple(frames), duration=duration, frame_rate_sampled=sample_fps)


def sample_frames(
    container: InputContainer,
    stream: VideoStream,
    *,
    sample_fps: float,
    max_decode_seconds: float,
    max_pixels: int,
) -> Iterator[tuple[float, npt.NDArray[np.uint8]]]:
    """Yield ``(seconds since the first frame, upright RGB array)`` at ``sample_fps``.

    Every frame is decoded (skipping non-key frames would change which frames are sampled),
    but only sampled frames are converted to RGB and rotated. Frame threading is on: it
    roughly doubles decode speed on two cores and keeps only a few frames per thread in flight.
    """
    stream.thread_type = "AUTO"
    deadline = time.monotonic() + max_decode_seconds
    period = 1.0 / sample_fps
    origin: float | None = None
    next_sample = 0.0
    index = 0
    rate = float(stream.average_rate or stream.guessed_rate or 30)
    decoded_any = False
    try:
        for frame in container.decode(stream):
            if time.monotonic() > deadline:
                raise Unhashable(TIMEOUT, f"decoding took longer than {max_decode_seconds:g} s")
            decoded_any = True
            seconds = _frame_seconds(frame, index, rate)
            index += 1
            if origin is None:
                origin = seconds
            relative = seconds - origin
            if relative + _TIMESTAMP_EPSILON < next_sample:
                continue
            if frame.width * frame.height > max_pixels:
                raise Unhashable(
                    TOO_MANY_PIXELS,
                    f"{frame.width}x{frame.height} pixels exceeds the limit of {max_pixels}",
                )
            # The next instant strictly after this frame: a gap in a VFR file skips instants
            # instead of emitting a burst of copies of the frame after the gap.
            next_sample = (math.floor((relative + _TIMESTAMP_EPSILON) / period) + 1) * period
            yield relative, _upright_rgb(frame)
    except av.error.FFmpegError:
        # A damaged packet deep in a file: keep what decoded (see hash_video_file).
        if not decoded_any:
            raise Unhashable(CORRUPT, "the video stream could not be decoded") from None


def _frame_seconds(frame: VideoFrame, index: int, rate: float) -> float:
    """Presentation time in seconds; from the frame index where the container gives no pts."""
    if frame.pts is not None and frame.time_base is not None:
        return float(frame.pts * frame.time_base)
    return index / rate


def _upright_rgb(frame: VideoFrame) -> npt.NDArray[np.uint8]:
    """RGB24 pixels turned as the display matrix says a player shows them.

    ``VideoFrame.rotation`` is the counter-clockwise angle of the display matrix, and
    ``np.rot90`` turns counter-clockwise, so the quarter turns are applied as they are. Flips in a
    display matrix are not applied (FFmpeg's rotation getter ignores them; they are very rare).
    """
    rgb = np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)
    turns = round(frame.rotation / 90) % 4 if frame.rotation else 0
    if turns:
        rgb = np.rot90(rgb, turns)
    return np.ascontiguousarray(rgb)


class _Opened:
    """``av.open`` as a context manager that maps open failures to stable reasons."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._container: InputContainer | None = None

    def __enter__(self) -> InputContainer:
        path = self._path
        try:
            size = path.stat().st_size
        except OSError:
            raise Unhashable(NOT_A_VIDEO, "the file cannot be read") from None
        if size == 0:
            raise Unhashable(EMPTY, "the file is empty")
        try:
            self._container = av.open(str(path), mode="r")
        except av.error.FFmpegError:
            raise _classify_open_failure(path) from None
        return self._container

    def __exit__(self, *exc_info: object) -> None:
        if self._container is not None:
            self._container.close()


def _open(path: Path) -> _Opened:
    return _Opened(path)


def _classify_open_failure(path: Path) -> Unhashable:
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
        size = handle.seek(0, 2)
    if not is_probably_video(head):
        return Unhashable(NOT_A_VIDEO, "no video container signature recognised")
    if head[4:8] == b"ftyp" and _iso_bmff_truncated(path, size):
        return Unhashable(TRUNCATED, "the video file ends early")
    return Unhashable(CORRUPT, "the video container is damaged")


def _iso_bmff_truncated(path: Path, size: int) -> bool:
    """Whether an MP4/MOV's top-level boxes claim more bytes than the file has.

    The usual result of an interrupted download: ``mdat`` is declared in full, the ``moov`` index
    after it never arrives, and FFmpeg only says "moov atom not found".
    """
    offset = 0
    with path.open("rb") as handle:
        while offset + 8 <= size:
            handle.seek(offset)
            header = handle.read(16)
            box_size = int.from_bytes(header[:4], "big")
            if box_size == 1 and len(header) == 16:
                box_size = int.from_bytes(header[8:16], "big")
            elif box_size == 0:  # extends to the end of the file
                return False
            if box_size < 8:
                return False
            offset += box_size
    return offset > size


def _video_stream(container: InputContainer) -> VideoStream:
    if not container.streams.video:
        raise Unhashable(NO_VIDEO_STREAM, "the file has no video stream")
    stream = container.streams.video[0]
    try:
        context = stream.codec_context
    except av.error.FFmpegError:
        context = None
    if context is None or not getattr(context, "name", None):
        raise Unhashable(UNSUPPORTED_CODEC, "no decoder for the video codec")
    return stream


def _duration(container: InputContainer, stream: VideoStream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


# --- container sniffing ----------------------------------------------------------------------

_SNIFF_BYTES: Final = 512
_ISO_NON_VIDEO_BRANDS: Final = frozenset(
    {b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avci", b"M4A ", b"M4B "}
)
"""ftyp major brands of still images (HEIF/AVIF) and audio-only MPEG-4 files."""


def is_probably_video(data_head: bytes) -> bool:
    """Whether the first bytes of a file look like a video container (cheap routing check).

    Recognises ISO base media (MP4, MOV, 3GP: ``ftyp`` with a non-image, non-audio brand; old
    QuickTime files starting with ``moov``/``mdat``/``wide``), Matroska/WebM (EBML), AVI (RIFF),
    FLV, ASF/WMV, MPEG program streams and MPEG transport streams (sync byte every 188 bytes).
    A True answer only means "try :func:`hash_video_file`"; it can still fail with a reason.
    """
    head = bytes(data_head[:_SNIFF_BYTES])
    if head[4:8] == b"ftyp":
        return head[8:12] not in _ISO_NON_VIDEO_BRANDS
    if head[4:8] in {b"moov", b"mdat", b"wide"}:
        return True
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML: Matroska, WebM
        return True
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return True
    if head.startswith((b"FLV\x01", b"\x00\x00\x01\xba")):
        return True
    if head.startswith(b"\x30\x26\xb2\x75\x8e\x66\xcf\x11"):  # ASF (WMV)
        return True
    return len(head) >= 377 and head[0] == head[188] == head[376] == 0x47


# --- border removal --------------------------------------------------------------------------

BORDER_TOLERANCE: Final = 24
"""Max per-channel difference from the border colour for a pixel to count as border."""
BORDER_MIN_SHARE: Final = 0.97
"""Share of a row/column's pixels that must be border-coloured (compression noise, logos)."""
BORDER_MAX_SHARE: Final = 0.4
"""Never crop more than this share of the height/width from one side."""


def crop_uniform_borders(rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """Remove near-uniform bands (any colour) from the edges of an ``(h, w, 3)`` image.

    Why: letterboxing (bars added above/below) and pillarboxing (at the sides) are the commonest
    re-edit of shared video, and PDQ, which is not robust to crops, is equally not robust to
    padding. Cropping the bars before hashing makes the padded copy hash like the original.

    Each side is trimmed independently: the colour of its outermost line is the reference, and
    lines are removed while at least :data:`BORDER_MIN_SHARE` of their pixels are within
    :data:`BORDER_TOLERANCE` of it (lossy codecs ring next to the bar). At most
    :data:`BORDER_MAX_SHARE` is examined per side; when a side is uniform that deep, the picture is
    flat or dark rather than framed, and it is returned unchanged.
    Returns a view (no copy) when something is cropped.
    """
    if rgb.ndim != 3 or rgb.shape[0] < 3 or rgb.shape[1] < 3:
        return rgb
    height, width = rgb.shape[:2]
    row_limit, column_limit = int(height * BORDER_MAX_SHARE), int(width * BORDER_MAX_SHARE)
    columns = rgb.transpose(1, 0, 2)
    depths = (
        _border_depth(rgb, row_limit),
        _border_depth(rgb[::-1], row_limit),
        _border_depth(columns, column_limit),
        _border_depth(columns[::-1], column_limit),
    )
    top, bottom, left, right = depths
    if top == row_limit or bottom == row_limit or left == column_limit or right == column_limit:
        # A "border" this deep is a flat or dark picture, not bars: hash it as it is.
        return rgb
    return rgb[top : height - bottom, left : width - right]


def _border_depth(lines: npt.NDArray[np.uint8], limit: int) -> int:
    """How many leading lines (axis 0) are near the colour of the first line."""
    if limit < 1:
        return 0
    reference = np.median(lines[0], axis=0).astype(np.int16)
    depth = 0
    # In small chunks: most frames have no border, and the first chunk then settles it (checking
    # the whole 40% band of all four sides cost more than the PDQ itself).
    chunk = 8
    while depth < limit:
        band = lines[depth : min(depth + chunk, limit)].astype(np.int16)
        close = np.all(np.abs(band - reference) <= BORDER_TOLERANCE, axis=2)
        uniform = close.mean(axis=1) >= BORDER_MIN_SHARE
        if not uniform.all():
            return depth + int(np.argmin(uniform))
        depth += len(band)
        chunk *= 2
    return limit


# --- comparison ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VideoMatch:
    """How much of each video is found in the other (vPDQ's two-sided match percentages)."""

    query_share: float
    """Share of the query's usable frames within the distance of some target frame."""
    target_share: float
    """Share of the target's usable frames within the distance of some query frame."""


def match_videos(
    query: VideoHash,
    target: VideoHash,
    *,
    distance: int = MATCH_DISTANCE,
    min_quality: int = MIN_QUALITY,
) -> VideoMatch:
    """vPDQ's brute-force match: frames below ``min_quality`` are ignored on both sides.

    Two videos are a match when both shares pass the caller's thresholds; a clip of a longer
    video has a high ``query_share`` and a low ``target_share``.
    """
    q = _hash_matrix([f.pdq for f in query.frames if f.quality >= min_quality])
    t = _hash_matrix([f.pdq for f in target.frames if f.quality >= min_quality])
    if len(q) == 0 or len(t) == 0:
        return VideoMatch(0.0, 0.0)
    nearest_q, nearest_t = _nearest_distances(q, t)
    return VideoMatch(
        query_share=float(np.mean(nearest_q <= distance)),
        target_share=float(np.mean(nearest_t <= distance)),
    )


def nearest_frame_distances(hashes: list[str], others: list[str]) -> npt.NDArray[np.int64]:
    """For each PDQ in ``hashes``, the Hamming distance to the nearest PDQ in ``others``."""
    nearest, _ = _nearest_distances(_hash_matrix(hashes), _hash_matrix(others))
    return nearest


_POPCOUNT: Final = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint16)
_BLOCK: Final = 256


def _hash_matrix(values: list[str]) -> npt.NDArray[np.uint8]:
    if not values:
        return np.zeros((0, 32), dtype=np.uint8)
    return np.frombuffer(b"".join(bytes.fromhex(v) for v in values), dtype=np.uint8).reshape(-1, 32)


def _nearest_distances(
    a: npt.NDArray[np.uint8], b: npt.NDArray[np.uint8]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Nearest distances a->b and b->a, in blocks so a 2-hour video needs a few MB, not GB."""
    if len(a) == 0 or len(b) == 0:
        return np.full(len(a), 256, dtype=np.int64), np.full(len(b), 256, dtype=np.int64)
    nearest_a = np.full(len(a), 256, dtype=np.int64)
    nearest_b = np.full(len(b), 256, dtype=np.int64)
    for start in range(0, len(a), _BLOCK):
        block = a[start : start + _BLOCK]
        distances = _POPCOUNT[block[:, None, :] ^ b[None, :, :]].sum(axis=2, dtype=np.int64)
        nearest_a[start : start + len(block)] = distances.min(axis=1)
        np.minimum(nearest_b, distances.min(axis=0), out=nearest_b)
    return nearest_a, nearest_b


# --- the signal type -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VpdqSignalType:
    """The ``vpdq`` signal type: a :class:`VideoHash` stored as base64 of :meth:`to_bytes`.

    ``match_kind`` is EXACT because the base types know only single values: equal stored values
    are the same hash. The perceptual comparison is :meth:`distance` (0-100, from
    :func:`match_videos`); matching banks goes through an index of the frames' PDQs instead
    (:mod:`brightline.matching.video`).
    """

    name: str = "vpdq"
    version: int = 1
    match_kind: MatchKind = MatchKind.EXACT

    def normalize(self, value: str) -> str:
        """Canonical base64 (standard alphabet, padded, no whitespace) of a valid hash."""
        return encode_video_hash(decode_video_hash(value))

    def distance(self, a: str, b: str) -> int:
        """``100 - `` the smaller of the two match shares, in percent: 0 = every usable frame
        of each video is found in the other; 100 = none (or no usable frames)."""
        result = match_videos(decode_video_hash(a), decode_video_hash(b))
        return 100 - math.floor(100 * min(result.query_share, result.target_share))


def encode_video_hash(video_hash: VideoHash) -> str:
    """The stored text form: base64 of :meth:`VideoHash.to_bytes`."""
    return base64.b64encode(video_hash.to_bytes()).decode("ascii")


def decode_video_hash(value: str) -> VideoHash:
    """Parse the stored text form, or python-threatexchange's JSON form (a list of
    ``"<pdq hex>,<quality>,<seconds>"`` strings, as HMA stores vPDQ); raise :class:`InvalidInput`
    when malformed."""
    if not isinstance(value, str):
        raise InvalidInput("a vpdq hash must be a string")
    if value.lstrip().startswith("["):
        return video_hash_from_threatexchange(value)
    try:
        data = base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("a vpdq hash is base64 text") from None
    return VideoHash.from_bytes(data)


THREATEXCHANGE_SAMPLE_FPS: Final = 1.0
"""python-threatexchange hashes one frame per second and does not record the rate."""
_PDQ_HEX = re.compile(r"[0-9a-f]{64}")


def video_hash_to_threatexchange(video_hash: VideoHash) -> str:
    """python-threatexchange's ``vpdq`` signal string: a JSON list of ``"hex,quality,seconds"``.

    Duration and sampling rate are not part of that form and are lost; frames, qualities and
    millisecond timestamps survive a round trip.
    """
    return json.dumps(
        [f"{frame.pdq},{frame.quality},{frame.timestamp:.3f}" for frame in video_hash.frames],
        separators=(",", ":"),
    )


def video_hash_from_threatexchange(text: str) -> VideoHash:
    """Parse :func:`video_hash_to_threatexchange` output (or python-threatexchange's own)."""
    try:
        items = json.loads(text)
    except ValueError:
        raise InvalidInput("a vpdq JSON hash is not valid JSON") from None
    if not isinstance(items, list) or not items:
        raise InvalidInput("a vpdq JSON hash is a non-empty list of frame strings")
    frames = []
    for number, item in enumerate(items, start=1):
        parts = item.split(",") if isinstance(item, str) else []
        if len(parts) != 3:
            raise InvalidInput(f"vpdq frame {number} is not 'pdq hex,quality,seconds'")
        pdq, quality_text, seconds_text = (part.strip() for part in parts)
        pdq = pdq.lower()
        try:
            quality, seconds = int(quality_text), float(seconds_text)
        except ValueError:
            raise InvalidInput(f"vpdq frame {number} has a non-numeric quality or time") from None
        if not _PDQ_HEX.fullmatch(pdq):
            raise InvalidInput(f"vpdq frame {number} is not a 64-digit PDQ hash")
        if not 0 <= quality <= 100:
            raise InvalidInput(f"vpdq frame {number} quality is outside 0-100")
        if not (math.isfinite(seconds) and 0 <= seconds < 2**32 / 1000):
            raise InvalidInput(f"vpdq frame {number} time is out of range")
        frames.append(VideoFrameHash(pdq=pdq, quality=quality, timestamp=round(seconds, 3)))
    frames.sort(key=lambda frame: frame.timestamp)
    return VideoHash(
        frames=tuple(frames), duration=None, frame_rate_sampled=THREATEXCHANGE_SAMPLE_FPS
    )


__all__ = [
    "VideoFrameHash",
    "VideoHash",
    "VideoMatch",
    "VpdqSignalType",
    "crop_uniform_borders",
    "decode_video_hash",
    "encode_video_hash",
    "hash_video_file",
    "is_probably_video",
    "match_videos",
    "nearest_frame_distances",
    "video_hash_from_threatexchange",
    "video_hash_to_threatexchange",
]
