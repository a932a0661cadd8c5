"""Every pair of PDQ hashes within a Hamming distance of each other (an exact self-join).

Why this exists next to :class:`~brightline.index.PDQIndex`: the index answers *queries*
(a few new hashes against a large, long-lived bank), so it must probe every bucket a single
query could land near: 8 chunks of 32 bits at radius 3 is 5,489 flip patterns per chunk, per
query.  De-duplicating a whole collection (the clearinghouse's clustering) asks a different
question, "which of these ``n`` hashes are close to each other?", and answering it with ``n``
queries pays those probes ``n`` times (272 s of a 436 s analysis at 1M reports).  A self-join
can instead bucket all hashes once per chunk and compare whole buckets with whole buckets,
where a bucket probe costs nothing per hash.

How, exactly (same pair set as a brute-force all-pairs popcount):

* **Generalised pigeonhole over 16 chunks of 16 bits.**  Chunk ``k`` gets a radius ``r_k``
  with ``sum(r_k + 1) >= tau + 1``; two hashes within ``tau`` bits then agree to within
  ``r_k`` bits on *some* chunk ``k`` (otherwise they would differ in at least
  ``sum(r_k + 1) > tau`` bits).  For the default ``tau = 31`` every ``r_k`` is 1.
* **Per chunk, buckets against buckets.**  Rows are counting-sorted into the 65,536 buckets
  of the chunk's value; bucket ``b`` is compared with itself (``i < j``) and with every
  bucket ``b ^ m`` above it, ``m`` a mask of weight ``1..r_k`` (16 masks at radius 1).
  Every candidate is verified with the full 256-bit popcount.
* **Each pair once, without a hash set.**  A pair is reported only by the first chunk
  within its radius (the later chunks check the earlier ones' distances, which costs
  a few instructions and only on true matches), so the chunks can run on separate threads
  and their results just be concatenated and sorted.

Cost and skew.  Uniform hashes give ``n / 65,536`` rows per bucket, so the join compares
about ``n**2 / 2 * sum(V(r_k)) / 65,536`` pairs, ``V(r)`` the number of 16-bit masks of
weight ``<= r`` (17 at radius 1): ``n**2 / 482`` at ``tau = 31``, against ``n**2 / 2`` for
brute force.  The rows of the buckets above ``b`` are first gathered into one word-major
block, so the comparisons run as one vectorised loop per row.  This grows quadratically:
1M distinct hashes take about 1.5 s on one core (``benchmarks/self_join_benchmark.py``), but
at ~10M a wider-chunk design would be needed.  Near-identical hashes (viral content
re-encoded thousands of times) share their chunks and so fill the same bucket in every
chunk: a group of ``g`` such hashes costs up to ``16 * g**2 / 2`` comparisons (scalar ones,
within a bucket).  When the group really is within ``tau`` of itself the *output* is already
about ``g**2 / 2`` pairs, so the join stays within a constant factor (16 chunks) of the size
of its own answer; a bucket whose pairs overflow the output buffer is rerun once with a
buffer of the counted size.  The result is never truncated or approximated; memory is
16 bytes per reported pair (twice that while sorting).

Small inputs (where sweeping 16 x 65,536 buckets costs more than comparing every pair) and
large thresholds (where the per-chunk radius makes the neighbourhood a sizeable fraction of
all buckets) use a brute-force all-pairs scan instead; the choice only affects speed.
"""

from __future__ import annotations

import functools
import itertools
import math
from concurrent.futures import ThreadPoolExecutor
from typing import Final, Literal

import numpy as np
from numpy.typing import NDArray

from brightline.index import _join_kernels as kernels
from brightline.index.pdq_index import HASH_BITS, InvalidHashError, _check_hashes

__all__ = ["JoinStrategy", "chunk_radii", "pdq_pairs_within"]

JoinStrategy = Literal["auto", "join", "scan"]

# Rough costs in nanoseconds (fitted on the 2-core development VM, an AMD EPYC with
# AVX-512, 1k..1M hashes, tau 15..80); only their ratios matter: they choose between the
# bucketed join and the brute-force scan.
_COST_SCAN_COMPARE: Final = 1.15
_COST_JOIN_COMPARE: Final = 0.35
_COST_BUCKET: Final = 9.0
_COST_ROW: Final = 10.0
_COST_PROBE: Final = 11.0
_COST_GATHER: Final = 3.0
# Brute force is split into row ranges of about this many comparisons, so threads share it.
_SCAN_TASK_PAIRS: Final = 1 << 24


def pdq_pairs_within(
    hashes: NDArray[np.uint8],
    max_distance: int,
    *,
    workers: int = 1,
    strategy: JoinStrategy = "auto",
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Every pair of rows ``i < j`` of ``hashes`` within ``max_distance`` bits of each other.

    ``hashes`` is ``(n, 32) uint8`` (as for :class:`~brightline.index.PDQIndex`).  Returns
    ``(i, j)`` as two ``int64`` arrays sorted by ``i`` then ``j``, identical whatever
    ``workers`` (threads; the kernels release the GIL).  Equal rows are pairs at distance 0.
    ``strategy`` forces the bucketed ``"join"`` or the brute-force ``"scan"`` (tests and
    benchmarks); ``"auto"`` picks the cheaper by a cost estimate.  Both are exact.
    """
    if strategy not in ("auto", "join", "scan"):
        raise InvalidHashError(f"strategy must be auto, join or scan, got {strategy!r}")
    arr = _check_hashes(hashes)
    if isinstance(max_distance, bool) or not isinstance(max_distance, int | np.integer):
        raise InvalidHashError(f"max_distance must be an int, got {max_distance!r}")
    tau = int(max_distance)
    if not 0 <= tau <= HASH_BITS:
        raise InvalidHashError(f"max_distance must be in 0..{HASH_BITS}, got {tau}")
    n = len(arr)
    if n < 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    # A fresh writable array: numba compiles separately for read-only inputs.
    h = np.array(arr, dtype=np.uint8, order="C", copy=True).view(np.uint64)
    workers = max(1, workers)
    radii = chunk_radii(tau)
    use_join = _join_cost(n, radii) < _scan_cost(n) if strategy == "auto" else strategy == "join"
    if use_join:
        results = _run(workers, _chunk_tasks(h, radii, tau))
    else:
        results = _run(workers, _scan_tasks(h, tau))
    a = np.concatenate([r[0] for r in results])
    b = np.concatenate([r[1] for r in results])
    order = np.lexsort((b, a))
    return a[order], b[order]


def chunk_radii(tau: int) -> NDArray[np.int64]:
    """Per-chunk radii with ``sum(r_k + 1) == tau + 1``, as even as possible (``-1``: skip).

    Even is optimal because the buckets to visit grow much faster than linearly in ``r_k``.
    """
    base, extra = divmod(tau + 1, kernels.NUM_CHUNKS)
    radii = np.full(kernels.NUM_CHUNKS, base - 1, dtype=np.int64)
    radii[:extra] += 1
    return radii


@functools.lru_cache(maxsize=32)
def _masks(radius: int) -> NDArray[np.uint32]:
    """All 16-bit masks of weight ``1..radius``."""
    values = np.arange(1 << kernels.CHUNK_BITS, dtype=np.uint32)
    weights = np.zeros(values.shape, dtype=np.uint32)
    for bit in range(kernels.CHUNK_BITS):
        weights += (values >> bit) & 1
    masks = values[(weights >= 1) & (weights <= radius)]
    masks.flags.writeable = False
    return masks


def _ball(radius: int) -> int:
    """16-bit masks of weight ``<= radius``: the buckets a bucket is compared with."""
    return sum(math.comb(kernels.CHUNK_BITS, w) for w in range(max(radius, -1) + 1))


def _join_cost(n: int, radii: NDArray[np.int64]) -> float:
    """Per chunk: sweep the buckets and sort the rows into them, probe ``ball - 1`` buckets
    from every non-empty one, gather the rows of the half above it, and compare
    ``n**2 / 2 * (ball - 1) / buckets`` pairs (uniform hashes; same-bucket pairs neglected)."""
    buckets = 1 << kernels.CHUNK_BITS
    per_bucket = n / buckets
    non_empty = buckets * -math.expm1(-per_bucket)
    cost = 0.0
    for r in radii.tolist():
        if r < 0:
            continue
        probes = _ball(r) - 1
        gathered = non_empty * probes / 2 * per_bucket
        cost += buckets * _COST_BUCKET + n * _COST_ROW + non_empty * probes * _COST_PROBE
        cost += gathered * (_COST_GATHER + per_bucket * _COST_JOIN_COMPARE)
    return cost


def _scan_cost(n: int) -> float:
    return n * n / 2 * _COST_SCAN_COMPARE


_Pairs = tuple[NDArray[np.int64], NDArray[np.int64]]


def _chunk_tasks(
    h: NDArray[np.uint64], radii: NDArray[np.int64], tau: int
) -> list[functools.partial[_Pairs]]:
    return [
        functools.partial(kernels.join_chunk, h, k, radii, tau, _masks(int(r)))
        for k, r in enumerate(radii.tolist())
        if r >= 0
    ]


def _scan_tasks(h: NDArray[np.uint64], tau: int) -> list[functools.partial[_Pairs]]:
    """Row ranges of about equal work (row ``x`` compares with the ``n - x - 1`` after it)."""
    n = int(h.shape[0])
    done = np.cumsum(np.arange(n - 1, -1, -1, dtype=np.int64))
    cuts = np.searchsorted(done, np.arange(_SCAN_TASK_PAIRS, int(done[-1]), _SCAN_TASK_PAIRS))
    bounds = np.unique(np.concatenate(([0], cuts + 1, [n]))).tolist()
    word_major = np.ascontiguousarray(h.T)
    return [
        functools.partial(kernels.join_all_pairs, h, word_major, x0, x1, tau)
        for x0, x1 in itertools.pairwise(bounds)
    ]


def _run(workers: int, tasks: list[functools.partial[_Pairs]]) -> list[_Pairs]:
    if workers == 1 or len(tasks) == 1:
        return [task() for task in tasks]
    with ThreadPoolExecutor(max_workers=min(workers, len(tasks))) as pool:
        return list(pool.map(lambda task: task(), tasks))
