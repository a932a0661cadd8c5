"""The hashing pipeline: bytes in, every registered signal out, failures as data.

The bytes are read once (under a byte cap), every byte hasher sees them, and the content is
decoded at most once for the image hashers. Failure to decode is not an exception here: a scan
of a million files must record *why* one could not be perceptually hashed (``unhashable``) and
carry on, while the exact digests of those bytes are still worth matching.
"""

from __future__ import annotations

import functools
import hashlib
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from brightline.errors import InvalidInput, Unhashable
from brightline.signals.base import Signal
from brightline.signals.cryptographic import CryptographicSignalType
from brightline.signals.image_decoding import TOO_LARGE, ImageDecodeError, decode_image
from brightline.signals.pdq import PdqSignalType, pdq_from_rgb
from brightline.signals.video import (
    BORDER_MIN_SHARE,
    BORDER_TOLERANCE,
    DEFAULT_MAX_DECODE_SECONDS,
    DEFAULT_MAX_PIXELS,
    DEFAULT_SAMPLE_FPS,
    MIN_QUALITY,
    VideoHash,
    crop_uniform_borders,
    hash_video_file,
    is_probably_video,
)

VIDEO_SNIFF_BYTES = 64
"""Enough of a file's start to recognise every container :func:`is_probably_video` knows."""

if TYPE_CHECKING:
    from pathlib import Path

    from PIL import Image

    from brightline.settings import Settings
    from brightline.signals.registry import SignalTypeRegistry


@dataclass(frozen=True, slots=True)
class HashingLimits:
    """Resource caps for hashing untrusted content."""

    max_file_bytes: int = 256 * 1024 * 1024
    """Files bigger than this are not read at all (reason ``too_large``)."""
    max_image_pixels: int = 120_000_000
    """Images whose header claims more pixels are not decoded (reason ``too_many_pixels``).

    Peak memory of a full decode plus PDQ is about 30 bytes per pixel (``pdqhash`` builds float64
    luma temporaries), so the default allows ~3.5 GB for the largest non-JPEG image; large JPEGs
    are decoded at reduced size and cost far less.
    """

    max_video_bytes: int = 16 * 1024**3
    """Video files are streamed, never read whole, so their cap is far higher."""
    video_sample_fps: float = DEFAULT_SAMPLE_FPS
    """Frames per second of video that are hashed (vPDQ samples 1 per second)."""
    max_video_decode_seconds: float = DEFAULT_MAX_DECODE_SECONDS
    """Wall-clock budget for decoding one video: a hostile file cannot stall a scan."""

    def __post_init__(self) -> None:
        if (
            self.max_file_bytes < 1
            or self.max_image_pixels < 1
            or self.max_video_bytes < 1
            or not self.video_sample_fps > 0
            or not self.max_video_decode_seconds > 0
        ):
            raise InvalidInput("hashing limits must be positive")

    @classmethod
    def from_settings(cls, settings: Settings) -> HashingLimits:
        return cls(
            max_file_bytes=settings.max_file_bytes,
            max_image_pixels=settings.max_image_pixels,
            max_video_bytes=settings.max_video_bytes,
            video_sample_fps=settings.video_sample_fps,
            max_video_decode_seconds=settings.max_video_decode_seconds,
        )


@dataclass(frozen=True, slots=True)
class HashedContent:
    """Everything hashing learned about one piece of content."""

    signals: tuple[Signal, ...]
    """md5, sha1, sha256 whenever the bytes were read; pdq when the content decoded."""
    pdq_dihedral: tuple[str, ...] = ()
    """The 8 dihedral PDQ values, identity first (``pdq.DIHEDRAL_ORDER``); () if not computed."""
    media_type: str | None = None
    """From the decoded format (never the file name); set when the header was recognised."""
    width: int | None = None
    """Full-resolution size as displayed (EXIF orientation applied), when the header was read."""
    height: int | None = None
    unhashable: Unhashable | None = None
    """Why perceptual hashing failed; None if it succeeded (or no image hasher is registered)."""
    pdq_border_cropped: str | None = None
    """PDQ of the image with uniform borders (letterbox bars, frames) cropped away, when it had
    any: a re-upload with added borders is found through it."""
    video: VideoHash | None = None
    """For video files: the sampled frames' PDQ hashes (vPDQ). ``signals`` then holds only the
    digests of the file; perceptual video matching goes through these frames."""

    def signal(self, name: str) -> Signal | None:
        """The signal of type ``name``, or None when it was not computed."""
        for signal in self.signals:
            if signal.signal_type == name:
                return signal
        return None


def hash_content(
    data: bytes,
    *,
    limits: HashingLimits,
    dihedral: bool = True,
    registry: SignalTypeRegistry | None = None,
    fast_path: bool = True,
) -> HashedContent:
    """Hash ``data`` (a whole file) with every signal type in ``registry`` (default: built-ins).

    Never raises for bad content: undecodable, oversized or hostile input is reported in
    ``unhashable``. Content over ``limits.max_file_bytes`` gets no signals at all, exactly as
    :func:`hash_file` treats a file it refuses to read.

    ``dihedral`` adds the eight dihedral PDQ hashes (free: the same pass). ``fast_path=False``
    disables reduced-size JPEG decoding, making PDQ bit-exact with the reference pipeline.
    """
    if len(data) > limits.max_file_bytes:
        return _too_large(len(data), limits.max_file_bytes)
    if registry is None:
        registry = _builtin_registry()
    signals = [hasher.hash_bytes(data) for hasher in registry.bytes_hashers()]
    image_hashers = registry.image_hashers()
    if not image_hashers:
        return HashedContent(signals=tuple(signals))
    try:
        decoded = decode_image(data, max_pixels=limits.max_image_pixels, fast_path=fast_path)
    except ImageDecodeError as exc:
        return HashedContent(
            signals=tuple(signals),
            media_type=exc.media_type,
            width=exc.width,
            height=exc.height,
            unhashable=exc,
        )
    dihedral_values: tuple[str, ...] = ()
    unhashable: Unhashable | None = None
    for hasher in image_hashers:
        try:
            if dihedral and not dihedral_values and isinstance(hasher, PdqSignalType):
                dihedral_values, quality = hasher.hash_dihedral(decoded.image)
                signals.append(
                    Signal(hasher.name, hasher.version, dihedral_values[0], quality=quality)
                )
            else:
                signals.append(hasher.hash_image(decoded.image))
        except Unhashable as exc:  # a plugin hasher refusing this image; the others still run
            unhashable = unhashable or exc
    return HashedContent(
        signals=tuple(signals),
        pdq_dihedral=dihedral_values,
        pdq_border_cropped=_border_cropped_pdq(decoded.image)
        if any(s.signal_type == "pdq" for s in signals)
        else None,
        media_type=decoded.media_type,
        width=decoded.width,
        height=decoded.height,
        unhashable=unhashable,
    )


BORDER_MIN_SIDE = 32
"""Below this, what is left after cropping borders is too small to hash meaningfully."""


def _border_cropped_pdq(image: Image.Image) -> str | None:
    """PDQ of ``image`` without its uniform borders, or None when it has none (or too little is
    left, or the cropped image is too flat to hash with quality)."""
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    if not _has_uniform_edge(rgb):
        return None  # the common case, settled without copying the whole image
    pixels = np.asarray(rgb, dtype=np.uint8)
    cropped = crop_uniform_borders(pixels)
    if cropped.shape == pixels.shape or min(cropped.shape[:2]) < BORDER_MIN_SIDE:
        return None
    value, quality = pdq_from_rgb(np.ascontiguousarray(cropped))
    return value if quality >= MIN_QUALITY else None


def _has_uniform_edge(image: Image.Image) -> bool:
    """Whether any outermost row or column is near one colour (a border could start there)."""
    width, height = image.size
    for box in (
        (0, 0, width, 1),
        (0, height - 1, width, height),
        (0, 0, 1, height),
        (width - 1, 0, width, height),
    ):
        line = np.asarray(image.crop(box), dtype=np.int16).reshape(-1, 3)
        reference = np.median(line, axis=0)
        close = np.all(np.abs(line - reference) <= BORDER_TOLERANCE, axis=1)
        if close.mean() >= BORDER_MIN_SHARE:
            return True
    return False


def hash_file(
    path: Path,
    *,
    limits: HashingLimits,
    dihedral: bool = True,
    registry: SignalTypeRegistry | None = None,
    fast_path: bool = True,
) -> HashedContent:
    """Read ``path`` under the byte cap and :func:`hash_content` it; videos go their own way.

    A file whose first bytes are a video container is streamed instead: its digests are computed
    chunk by chunk and its frames decoded with PyAV into vPDQ frame hashes (``video``), under
    ``max_video_bytes`` and the decode-time budget.

    A file over the cap is never read whole: its size is checked first, and at most one byte
    more than the cap is ever read (files can grow, and devices or pipes report no size).
    ``OSError`` (missing file, permissions, a directory) propagates: that is the caller's
    problem, not a property of the content.
    """
    cap = limits.max_file_bytes
    with path.open("rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        head = handle.read(VIDEO_SNIFF_BYTES)
        if is_probably_video(head):
            return _hash_video(path, handle, size, limits=limits, registry=registry)
        if size > cap:
            return _too_large(size, cap)
        data = head + handle.read(cap + 1 - len(head))
    if len(data) > cap:
        return _too_large(len(data), cap)
    return hash_content(
        data, limits=limits, dihedral=dihedral, registry=registry, fast_path=fast_path
    )


def _hash_video(
    path: Path,
    handle: BinaryIO,
    size: int,
    *,
    limits: HashingLimits,
    registry: SignalTypeRegistry | None,
) -> HashedContent:
    """Digests streamed over the file, then vPDQ frame hashes decoded from it.

    Only digest types that :mod:`hashlib` can compute incrementally are taken for videos (a
    plugin byte hasher would need the whole file in memory).
    """
    if size > limits.max_video_bytes:
        return _too_large(size, limits.max_video_bytes)
    if registry is None:
        registry = _builtin_registry()
    digesters = [
        (hasher, hashlib.new(hasher.algorithm, usedforsecurity=False))
        for hasher in registry.bytes_hashers()
        if isinstance(hasher, CryptographicSignalType)
    ]
    handle.seek(0)
    while chunk := handle.read(1 << 20):
        for _, digest in digesters:
            digest.update(chunk)
    signals = tuple(Signal(h.name, h.version, d.hexdigest()) for h, d in digesters)
    try:
        video = hash_video_file(
            path,
            sample_fps=limits.video_sample_fps,
            max_decode_seconds=limits.max_video_decode_seconds,
            max_pixels=min(limits.max_image_pixels, DEFAULT_MAX_PIXELS),
        )
    except Unhashable as exc:
        return HashedContent(signals=signals, media_type="video", unhashable=exc)
    return HashedContent(signals=signals, media_type="video", video=video)


def _too_large(size: int, cap: int) -> HashedContent:
    reason = Unhashable(TOO_LARGE, f"{size} bytes exceeds the limit of {cap} bytes")
    return HashedContent(signals=(), unhashable=reason)


@functools.cache
def _builtin_registry() -> SignalTypeRegistry:
    """One shared registry of the built-in types, built on first use (they are immutable)."""
    from brightline.signals import default_registry  # the package imports this module

    return default_registry()
