"""Numba kernels for PDQ's downscale, used to hash mirrored images (see ``pdq._mirrored_hashes``).

Why numba rather than a NumPy matrix product: the downscale weights are banded (each of the 64
samples reads ~2 window widths of the image), so a dense BLAS product does 60x the useful work,
and OpenBLAS spreads it over every core: in a pool of hashing processes those threads fight each
other (measured 8x slower on 2 busy cores). These loops do only the useful work, on one thread,
fused with the luma conversion so no image-sized temporary is allocated.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np
from numpy.typing import NDArray

_F = TypeVar("_F", bound=Callable[..., Any])


def _jit(fn: _F) -> _F:
    """``numba.njit`` with on-disk caching (the first call in a fresh checkout compiles)."""
    return cast(_F, numba.njit(cache=True, nogil=True)(fn))


@_jit
def downscale_rows(
    pixels: NDArray[np.uint8], index: NDArray[np.int64], weight: NDArray[np.float64]
) -> NDArray[np.float64]:
    """``(h, s)``: for each image row, the weighted sums of its luma that ``index``/``weight`` name.

    Luma is computed exactly as the reference does (float64 products, rounded to float32).
    """
    height, width = pixels.shape[0], pixels.shape[1]
    samples, taps = index.shape
    out = np.empty((height, samples), dtype=np.float64)
    luma = np.empty(width, dtype=np.float32)
    for r in range(height):
        for q in range(width):
            luma[q] = np.float32(
                pixels[r, q, 0] * 0.299 + pixels[r, q, 1] * 0.587 + pixels[r, q, 2] * 0.114
            )
        for i in range(samples):
            acc = 0.0
            for t in range(taps):
                acc += weight[i, t] * luma[index[i, t]]
            out[r, i] = acc
    return out


@_jit
def downscale_columns(
    values: NDArray[np.float64], index: NDArray[np.int64], weight: NDArray[np.float64]
) -> NDArray[np.float64]:
    """``(s, c)``: weighted sums down the columns of ``values`` (``(h, c)``)."""
    samples, taps = index.shape
    columns = values.shape[1]
    out = np.zeros((samples, columns), dtype=np.float64)
    for i in range(samples):
        for t in range(taps):
            w = weight[i, t]
            row = index[i, t]
            for j in range(columns):
                out[i, j] += w * values[row, j]
    return out
