"""PDQ self-join: ``pdq_pairs_within`` against querying a ``PDQIndex`` with every hash.

The baseline is what the clearinghouse clustering did before the self-join existed: build a
``PDQIndex`` over the hashes, query every hash against it in batches of 4,096 on a few threads,
keep the pairs ``i < j``. Both run in the same process on the same generated hashes, and their
pair sets are checked to be identical.

Hashes: ``n`` random 256-bit hashes, of which ``--planted`` percent are replaced by groups of
near-duplicates (a seed hash and variants with 1..40 bits flipped, so some pairs in a group are
within the threshold and some are not), like re-encodes of the same image across reports.

    python benchmarks/self_join_benchmark.py --sizes 100000 1000000 --threshold 31
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numpy.typing import NDArray

from brightline.index import PDQIndex, pdq_pairs_within

_QUERY_CHUNK = 4096

Pairs = tuple[NDArray[np.int64], NDArray[np.int64]]


def index_pairs(hashes: NDArray[np.uint8], threshold: int, workers: int) -> Pairs:
    """The former clustering path: one index query per hash (sorted here for comparison)."""
    index = PDQIndex.build(hashes, np.arange(len(hashes), dtype=np.int64))
    starts = list(range(0, len(hashes), _QUERY_CHUNK))

    def query(start: int) -> Pairs:
        hits = index.query_many(hashes[start : start + _QUERY_CHUNK], threshold)
        rows = [start + i for i, row in enumerate(hits) for _ in row]
        found = [hit for row in hits for hit, _ in row]
        a = np.asarray(rows, dtype=np.int64)
        b = np.asarray(found, dtype=np.int64)
        keep = b > a
        return a[keep], b[keep]

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(query, starts))
    a = np.concatenate([r[0] for r in results])
    b = np.concatenate([r[1] for r in results])
    order = np.lexsort((b, a))
    return a[order], b[order]


def make_hashes(n: int, planted_percent: float, rng: np.random.Generator) -> NDArray[np.uint8]:
    hashes = rng.integers(0, 256, size=(n, 32), dtype=np.uint8)
    planted = int(n * planted_percent / 100)
    group_sizes = rng.integers(2, 20, size=max(1, planted // 10))
    rows = rng.permutation(n)[:planted]
    at = 0
    for size in group_sizes.tolist():
        group = rows[at : at + size]
        if len(group) < 2:
            break
        at += size
        seed = hashes[group[0]]
        for row in group[1:].tolist():
            variant = seed.copy()
            for bit in rng.choice(256, size=int(rng.integers(1, 41)), replace=False).tolist():
                variant[bit // 8] ^= np.uint8(1 << (bit % 8))
            hashes[row] = variant
    return hashes


def timed(run: Callable[[], Pairs], repeats: int) -> tuple[float, Pairs]:
    """Median wall time of ``repeats`` runs (at least one) and the last result."""
    start = time.perf_counter()
    result = run()
    times = [time.perf_counter() - start]
    for _ in range(repeats - 1):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--threshold", type=int, nargs="+", default=[31])
    parser.add_argument("--planted", type=float, default=10.0, help="percent of hashes planted")
    parser.add_argument("--workers", type=int, default=min(8, os.cpu_count() or 1))
    parser.add_argument("--repeats", type=int, default=3, help="self-join runs per row")
    parser.add_argument(
        "--baseline-repeats", type=int, default=1, help="index-path runs per row (slow)"
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    warm = make_hashes(5000, 10, np.random.default_rng(0))
    pdq_pairs_within(warm, 31, strategy="join")
    pdq_pairs_within(warm[:100], 31, strategy="scan")
    index_pairs(warm, 31, 1)

    print(f"load average before: {load_average()}; workers {args.workers}")
    print(
        f"{'hashes':>9} {'tau':>4} {'pairs':>9} {'index s':>9} {'join s':>8} "
        f"{'ratio':>7} {'same':>5}"
    )
    rng = np.random.default_rng(args.seed)
    for n in args.sizes:
        hashes = make_hashes(n, args.planted, rng)
        for tau in args.threshold:
            join_s, join = timed(
                lambda h=hashes, t=tau: pdq_pairs_within(h, t, workers=args.workers),
                args.repeats,
            )
            index_s, index = timed(
                lambda h=hashes, t=tau: index_pairs(h, t, args.workers), args.baseline_repeats
            )
            same = np.array_equal(join[0], index[0]) and np.array_equal(join[1], index[1])
            print(
                f"{n:>9} {tau:>4} {len(join[0]):>9} {index_s:>9.2f} {join_s:>8.2f} "
                f"{index_s / join_s:>6.0f}x {'yes' if same else 'NO':>5}",
                flush=True,
            )
    print(f"load average after: {load_average()}")
    print(f"median of {args.repeats} self-join runs and {args.baseline_repeats} index runs per row")


if __name__ == "__main__":
    main()
