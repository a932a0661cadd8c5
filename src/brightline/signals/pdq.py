"""PDQ, Meta's open 256-bit perceptual image hash, via the ``pdqhash`` wrapper of the C++ reference.

Why the reference implementation: hash lists in the field were computed with it, and a matcher is
only as good as its agreement with the list. ``pdqhash`` reproduces the reference vectors bit for
bit; :func:`pdq_from_rgb` adds nothing but the hex encoding.

Hex form: 64 lowercase hex characters, most significant bit first, the layout python-threatexchange
and HMA use. Distance: Hamming distance; Meta recommends treating <= 31 as a match and discarding
hashes with quality < 50 (reported as "low quality", never as "no match").
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import math
import os
import re
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt
import pdqhash

from brightline.errors import InvalidInput
from brightline.signals.base import MatchKind, Signal
from brightline.signals.image_decoding import to_rgb

if TYPE_CHECKING:
    from PIL import Image

PDQ_HEX_LENGTH: Final = 64

DIHEDRAL_ORDER: Final = (
    "identity",
    "rotate90",
    "rotate180",
    "rotate270",
    "flip_x",
    "flip_y",
    "flip_plus1",
    "flip_minus1",
)
"""What each entry of a dihedral tuple is the PDQ of: the image transformed this way.

The order is ``pdqhash.compute_dihedral``'s. In Pillow terms: ``rotate90`` is ``ROTATE_90`` (a
counter-clockwise quarter turn), ``flip_x`` is ``FLIP_TOP_BOTTOM`` (mirrored about the x axis),
``flip_y`` is ``FLIP_LEFT_RIGHT``, ``flip_plus1`` is ``TRANSPOSE`` and ``flip_minus1`` is
``TRANSVERSE``. A rotated or mirrored copy of a listed image is found by looking up each of the
*query's* eight hashes: one of them undoes the transform.
"""

MIN_HASHABLE_SIDE: Final = 5
"""The reference returns an all-zero hash of quality 0 for images thinner than this."""


@dataclass(frozen=True, slots=True)
class PdqSignalType:
    """The ``pdq`` signal type: an :class:`~brightline.signals.base.ImageHasher`."""

    name: str = "pdq"
    version: int = 1
    match_kind: MatchKind = MatchKind.HAMMING

    def normalize(self, value: str) -> str:
        """Lowercase 64-hex-digit form; surrounding whitespace is tolerated (list files have it)."""
        if not isinstance(value, str):
            raise InvalidInput("a pdq hash must be a string")
        text = value.strip().lower()
        if len(text) != PDQ_HEX_LENGTH or not _is_hex(text):
            raise InvalidInput(f"a pdq hash is {PDQ_HEX_LENGTH} hex characters")
        return text

    def distance(self, a: str, b: str) -> int:
        return hamming_distance(a, b)

    def hash_image(self, image: Image.Image) -> Signal:
        value, quality = pdq_from_rgb(_rgb_array(image))
        return Signal(self.name, self.version, value, quality=quality)

    def hash_dihedral(self, image: Image.Image) -> tuple[tuple[str, ...], int]:
        """The eight dihedral hashes (identity first, :data:`DIHEDRAL_ORDER`) and the quality.

        The identity entry is :meth:`hash_image`'s value; see :func:`pdq_dihedral_from_rgb`.
        """
        return pdq_dihedral_from_rgb(_rgb_array(image))


def hamming_distance(a: str, b: str) -> int:
    """Number of differing bits between two equal-length hex hashes."""
    if len(a) != len(b):
        raise InvalidInput("hashes of different lengths cannot be compared")
    try:
        return (int(a, 16) ^ int(b, 16)).bit_count()
    except ValueError:
        raise InvalidInput("hashes must be hexadecimal") from None


def pdq_from_rgb(pixels: npt.NDArray[np.uint8]) -> tuple[str, int]:
    """PDQ hex and quality of an ``(height, width, 3)`` uint8 RGB array: the reference path."""
    bits, quality = pdqhash.compute(pixels)
    return bits_to_hex(bits), int(quality)


def pdq_dihedral_from_rgb(pixels: npt.NDArray[np.uint8]) -> tuple[tuple[str, ...], int]:
    """The PDQ of ``pixels`` under each of the eight rotations/mirrorings, and the quality.

    Entry *k* is the hash of the image transformed by ``DIHEDRAL_ORDER[k]``, computed as if the
    transformed pixels had been hashed (:func:`_mirrored_hashes`), with the identity entry and
    the quality taken from the reference ``pdqhash.compute``.

    Why not ``pdqhash.compute_dihedral`` (:func:`pdq_dihedral_one_pass`)? It transforms the
    64x64 downscaled buffer, but the reference downscaler is not mirror-symmetric (even box
    windows and the sample grid are off-centre by a pixel), so its mirrored hashes are those of
    a slightly shifted image. On high-frequency content that shift moves dozens of bits: we
    measured up to 104 bits on a 512 px photo of a brick wall and up to 28 on ordinary 512 px
    photos, so mirrored copies were missed at distance 31 (docs/signals.md).
    """
    height, width = pixels.shape[:2]
    identity, quality = pdq_from_rgb(pixels)
    if min(height, width) < MIN_HASHABLE_SIDE:
        return (identity,) * len(DIHEDRAL_ORDER), quality
    plain = _hex_to_matrix(identity)
    left_right, top_bottom, both = _mirrored_hashes(pixels)
    return (
        identity,
        _matrix_to_hex(left_right.T),  # rotate90 = transpose(mirror left-right)
        _matrix_to_hex(both),  # rotate180
        _matrix_to_hex(top_bottom.T),  # rotate270 = transpose(mirror top-bottom)
        _matrix_to_hex(top_bottom),  # flip_x
        _matrix_to_hex(left_right),  # flip_y
        _matrix_to_hex(plain.T),  # flip_plus1 (transpose)
        _matrix_to_hex(both.T),  # flip_minus1 (transverse)
    ), quality


def pdq_dihedral_one_pass(pixels: npt.NDArray[np.uint8]) -> tuple[tuple[str, ...], int]:
    """``pdqhash.compute_dihedral``: the eight hashes from one downscale, transforms approximated.

    Kept for comparison (the evaluation measures how far it is from the exact transforms); the
    pipeline uses :func:`pdq_dihedral_from_rgb`.
    """
    vectors, quality = pdqhash.compute_dihedral(pixels)
    return tuple(bits_to_hex(v) for v in vectors), int(quality)


def bits_to_hex(bits: npt.ArrayLike) -> str:
    """256 bits (most significant first, as ``pdqhash`` returns them) to 64 lowercase hex."""
    packed = np.packbits(np.asarray(bits, dtype=np.uint8))
    return packed.tobytes().hex()


def _rgb_array(image: Image.Image) -> npt.NDArray[np.uint8]:
    rgb = image if image.mode == "RGB" else to_rgb(image)
    return np.asarray(rgb, dtype=np.uint8)


_HEX_DIGITS = re.compile(r"[0-9a-f]*")


def _is_hex(text: str) -> bool:
    # A regex, not a per-character loop: normalize runs once per record of every import.
    return _HEX_DIGITS.fullmatch(text) is not None


# --- exact mirrored hashes -------------------------------------------------------------------
#
# PDQ, as the reference computes it: luma (0.299 R + 0.587 G + 0.114 B); along each axis, two
# passes of a box filter of window w = ceil(n / 128) covering [o - (w - h), o + h - 1] with
# h = (w + 2) // 2, clipped at the edges (a mean over what is inside); the 64 samples at
# floor((i + 0.5) * n / 64); a 16x16 DCT (rows 1-16 of the 64-point DCT-II, DC dropped); bit =
# coefficient > median. Both box passes and the sampling are linear, so along one axis they are
# 64 short weighted sums ("taps", about two windows wide), and the whole downscale is those taps
# applied along the rows, then down the columns. A mirrored image is the same with the taps
# mirrored, so both mirrors come out of the same pass over the pixels (128 taps per axis instead
# of 64). Rotations are transposes, which commute exactly with the separable downscale and DCT.
#
# Against pdqhash.compute on the actually transformed pixels this agreed on every bit for all 18
# bundled test images at 13 sizes from 4 to 2500 px (1,872 hashes; tests/signals/test_pdq.py keeps
# checking it); it differs from the reference only in floating-point summation order, which can
# matter only for a coefficient within ~1e-6 of the median.


@functools.lru_cache(maxsize=64)
def _axis_taps(n: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """The downscale along an axis of length ``n`` as taps: ``(128, taps)`` indices and weights.

    Rows 0-63 are the 64 samples; rows 64-127 the same for the axis mirrored (expressed in the
    original coordinates, so the image is never copied). Short rows are padded with zero weights.
    """
    window = (n + 127) // 128
    half = (window + 2) // 2
    before, after = window - half, half - 1
    weights = np.zeros((64, n), dtype=np.float64)
    for i in range(64):
        centre = (2 * i + 1) * n // 128
        inner = [p for p in range(centre - before, centre + after + 1) if 0 <= p < n]
        for p in inner:
            low, high = max(p - before, 0), min(p + after, n - 1)
            weights[i, low : high + 1] += 1.0 / (high - low + 1) / len(inner)
    dense = np.concatenate([weights, weights[:, ::-1]], axis=0)
    taps = max(int(np.count_nonzero(row)) for row in dense)
    index = np.zeros((128, taps), dtype=np.int64)
    weight = np.zeros((128, taps), dtype=np.float64)
    for i, row in enumerate(dense):
        nonzero = np.flatnonzero(row)
        index[i, : len(nonzero)] = nonzero
        weight[i, : len(nonzero)] = row[nonzero]
    return index, weight


_DCT: Final = np.array(
    [
        [
            math.sqrt(2.0 / 64.0) * math.cos(math.pi / 128.0 * (i + 1) * (2 * j + 1))
            for j in range(64)
        ]
        for i in range(16)
    ],
    dtype=np.float32,
).astype(np.float64)


def _mirrored_hashes(
    pixels: npt.NDArray[np.uint8],
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Bit matrices (16x16) of the image mirrored left-right, top-bottom, and both."""
    from brightline.signals import _pdq_kernels  # numba: imported on first use only

    height, width = pixels.shape[:2]
    columns = _pdq_kernels.downscale_rows(np.ascontiguousarray(pixels), *_axis_taps(width))
    # (128, 128): rows plain | mirrored top-bottom; columns plain | mirrored left-right
    grid = _pdq_kernels.downscale_columns(columns, *_axis_taps(height))
    return (
        _dct_bits(grid[:64, 64:]),
        _dct_bits(grid[64:, :64]),
        _dct_bits(grid[64:, 64:]),
    )


def _dct_bits(buffer: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    coefficients = _DCT @ buffer @ _DCT.T
    median = np.partition(coefficients.ravel(), 127)[127]
    result: npt.NDArray[np.bool_] = coefficients > median
    return result


def _hex_to_matrix(value: str) -> npt.NDArray[np.bool_]:
    """Hex (coefficient 255 first, as pdqhash orders bits) to the 16x16 [row, column] matrix."""
    bits = np.unpackbits(np.frombuffer(bytes.fromhex(value), dtype=np.uint8))
    matrix: npt.NDArray[np.bool_] = bits[::-1].reshape(16, 16).astype(bool)
    return matrix


def _matrix_to_hex(matrix: npt.NDArray[np.bool_]) -> str:
    return bits_to_hex(matrix.ravel()[::-1])


# --- allocator tuning ------------------------------------------------------------------------

_M_TRIM_THRESHOLD: Final = -1
_M_MMAP_THRESHOLD: Final = -3
KEEP_FREED_BYTES: Final = 512 * 1024 * 1024
"""Free heap memory glibc may keep for reuse instead of returning it to the OS."""
MMAP_THRESHOLD_BYTES: Final = 256 * 1024 * 1024
"""Allocations at least this big still get their own mapping (returned to the OS at once)."""


def tune_glibc_malloc() -> bool:
    """Stop glibc returning freed memory to the OS after every hash; True if applied.

    Hashing allocates several image-sized arrays per call (``pdqhash`` builds float64 luma
    temporaries). glibc serves big blocks with fresh ``mmap`` pages and trims freed memory, so
    every call pays page faults and zeroing for hundreds of megabytes: 1.2x slower on small
    images with glibc's defaults, 2x with an aggressive trim setting (Dask workers set one).
    Raising both thresholds lets the heap keep and reuse that memory (docs/signals.md has the
    measurements). The cost is that up to
    :data:`KEEP_FREED_BYTES` of freed memory stays mapped in each process.

    Applied once, at import of :mod:`brightline.signals.pdq`. Skipped on non-glibc platforms and
    when ``BRIGHTLINE_TUNE_MALLOC=0`` is set (to keep the process's own allocator settings, or to
    measure the difference).
    """
    if os.environ.get("BRIGHTLINE_TUNE_MALLOC") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
        libc.gnu_get_libc_version  # noqa: B018 -- only glibc has it; musl raises AttributeError
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    trimmed = mallopt(_M_TRIM_THRESHOLD, KEEP_FREED_BYTES)
    mapped = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
    return bool(trimmed and mapped)


MALLOC_TUNED: Final = tune_glibc_malloc()
"""Whether :func:`tune_glibc_malloc` took effect in this process."""
