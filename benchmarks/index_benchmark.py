"""PDQ index: build, memory, load, single-query latency, batch throughput, adds and recall.

Compares, in the same run and on the same banks and queries, Brightline's exact multi-index
``PDQIndex`` against brute force (faiss ``IndexBinaryFlat``, or a numpy scan when faiss is not
installed) and, at 1M hashes only, python-threatexchange's ``PDQIndex`` (the faiss
multi-index-hash index HMA uses). Everything timed runs on one thread.

Banks: ``uniform`` (random 256-bit hashes) and ``clustered`` (a fraction of the bank are bit-flip
variants of seed hashes: near-duplicate heavy). Queries: half are bank hashes with exactly k bits
flipped, k uniform in 0..31 (planted neighbours), half are random (non-matches). Recall is
measured against an exact brute-force ground truth over all queries.

    python benchmarks/index_benchmark.py --sizes 1000000 10000000 --queries 2000
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from brightline.index import PDQIndex

TAU = 31
ADD_BATCH = 100_000

GroundTruth = list[set[tuple[int, int]]]


@dataclass
class Row:
    bank: str
    size: int
    method: str
    build_s: float | None = None
    memory_mb: float | None = None
    load_s: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    batch_qps: float | None = None
    add_s: float | None = None
    recall: float | None = None
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- data


def rss_mb() -> float:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def flip_exact(rows: NDArray[np.uint8], k: NDArray[np.int64], rng: np.random.Generator) -> None:
    """Flip exactly ``k[i]`` distinct bits of ``rows[i]`` in place."""
    for i, bits in enumerate(k.tolist()):
        for bit in rng.choice(256, size=bits, replace=False).tolist():
            rows[i, bit // 8] ^= np.uint8(1 << (bit % 8))


def make_bank(kind: str, n: int, rng: np.random.Generator, cluster_fraction: float) -> Any:
    bank = rng.integers(0, 256, size=(n, 32), dtype=np.uint8)
    if kind == "clustered":
        n_var = int(n * cluster_fraction)
        n_seeds = max(1, n_var // 10)
        seeds = bank[rng.choice(n, size=n_seeds, replace=False)]
        variants = seeds[rng.integers(0, n_seeds, size=n_var)]
        flips = rng.integers(0, 32, size=n_var)
        # Vectorised: up to 31 random bit flips per variant (repeats only lower the distance).
        for j in range(31):
            rows = np.flatnonzero(flips > j)
            bit = rng.integers(0, 256, size=rows.size)
            variants[rows, bit // 8] ^= (1 << (bit % 8)).astype(np.uint8)
        bank[rng.choice(n, size=n_var, replace=False)] = variants
    return bank


def make_queries(bank: NDArray[np.uint8], nq: int, rng: np.random.Generator) -> Any:
    planted = nq // 2
    queries = np.empty((nq, 32), np.uint8)
    queries[:planted] = bank[rng.integers(0, len(bank), size=planted)]
    flip_exact(queries[:planted], rng.integers(0, 32, size=planted), rng)
    queries[planted:] = rng.integers(0, 256, size=(nq - planted, 32), dtype=np.uint8)
    return queries[rng.permutation(nq)]


def ground_truth(bank: NDArray[np.uint8], queries: NDArray[np.uint8]) -> GroundTruth:
    """Exact (row, distance) sets by brute force (faiss if present, else numpy)."""
    try:
        import faiss
    except ImportError:
        return [set(numpy_range_search(bank, q)) for q in queries]
    flat = faiss.IndexBinaryFlat(256)
    flat.add(bank)
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    lims, dists, labels = flat.range_search(queries, TAU + 1)
    faiss.omp_set_num_threads(1)
    return [
        set(
            zip(
                labels[lims[i] : lims[i + 1]].tolist(),
                dists[lims[i] : lims[i + 1]].tolist(),
                strict=True,
            )
        )
        for i in range(len(queries))
    ]


def numpy_range_search(bank: NDArray[np.uint8], query: NDArray[np.uint8]) -> list[tuple[int, int]]:
    words = bank.view(np.uint64)
    x = words ^ query.view(np.uint64)[None, :]
    if hasattr(np, "bitwise_count"):
        dist = np.bitwise_count(x).sum(axis=1, dtype=np.int64)
    else:  # numpy < 2
        dist = np.unpackbits(x.view(np.uint8), axis=1).sum(axis=1, dtype=np.int64)
    rows = np.flatnonzero(dist <= TAU)
    return list(zip(rows.tolist(), dist[rows].tolist(), strict=True))


def recall_of(found: Sequence[set[tuple[int, int]]], truth: GroundTruth) -> float:
    total = sum(len(t) for t in truth)
    hit = sum(len(f & t) for f, t in zip(found, truth, strict=True))
    extra = sum(len(f - t) for f, t in zip(found, truth, strict=True))
    if extra:
        print(f"    !! {extra} results not in the ground truth")
    return hit / total if total else 1.0


def time_each(fn: Callable[[NDArray[np.uint8]], object], queries: NDArray[np.uint8]) -> Any:
    fn(queries[0])  # warm-up (numba compile, page faults)
    times = []
    for q in queries:
        started = time.perf_counter()
        fn(q)
        times.append(time.perf_counter() - started)
    return np.array(times) * 1e3


def percentiles(row: Row, times_ms: NDArray[np.float64]) -> None:
    row.p50_ms = float(np.percentile(times_ms, 50))
    row.p99_ms = float(np.percentile(times_ms, 99))


# ------------------------------------------------------------------------ methods


def warm_up(workdir: Path) -> float:
    """Compile (or load from numba's cache) every kernel before anything is timed."""
    started = time.perf_counter()
    rng = np.random.default_rng(0)
    bank = rng.integers(0, 256, size=(5000, 32), dtype=np.uint8)
    index = PDQIndex.build(bank, np.arange(5000, dtype=np.int64))
    index.add(bank[:10] ^ np.uint8(1), np.arange(5000, 5010, dtype=np.int64))
    for strategy in ("index", "scan"):
        index._strategy = strategy
        index.query(bank[0].tobytes(), TAU)
        index.query_many(bank[:3], TAU)
    index.disable([1])
    index.enable(np.array([1], dtype=np.int64))
    index.save(workdir / "warm")
    PDQIndex.load(workdir / "warm", mmap=True).query(bank[0].tobytes())
    shutil.rmtree(workdir / "warm")
    return time.perf_counter() - started


def bench_ours(
    row: Row,
    bank: NDArray[np.uint8],
    queries: NDArray[np.uint8],
    truth: GroundTruth,
    extra: NDArray[np.uint8],
    workdir: Path,
    live_adds: int,
) -> None:
    ids = np.arange(len(bank), dtype=np.int64)
    started = time.perf_counter()
    index = PDQIndex.build(bank, ids)
    row.build_s = time.perf_counter() - started
    row.memory_mb = index.memory_bytes() / 1e6

    target = workdir / "ours"
    index.save(target)
    del index
    gc.collect()
    started = time.perf_counter()
    index = PDQIndex.load(target, mmap=True)
    row.load_s = time.perf_counter() - started
    started = time.perf_counter()
    PDQIndex.load(target, mmap=False)
    row.notes.append(f"load without mmap {time.perf_counter() - started:.2f}s")

    # First pass right after the memory-mapped load pays the page faults; the table
    # reports the second (steady-state) pass and the first goes into the notes.
    cold = time_each(lambda q: index.query(q.tobytes(), TAU), queries)
    row.notes.append(
        f"first pass after mmap load p50 {np.percentile(cold, 50):.3f}ms "
        f"p99 {np.percentile(cold, 99):.3f}ms"
    )
    times = time_each(lambda q: index.query(q.tobytes(), TAU), queries)
    percentiles(row, times)
    started = time.perf_counter()
    results = index.query_many(queries, TAU)
    row.batch_qps = len(queries) / (time.perf_counter() - started)
    row.recall = recall_of([set(r) for r in results], truth)

    started = time.perf_counter()
    index.add(extra, np.arange(len(bank), len(bank) + len(extra), dtype=np.int64))
    row.add_s = time.perf_counter() - started
    after = time_each(lambda q: index.query(q.tobytes(), TAU), queries[:500])
    row.notes.append(
        f"after add: segments {index.segment_sizes}, p50 {np.percentile(after, 50):.3f}ms"
    )
    index.compact()
    after = time_each(lambda q: index.query(q.tobytes(), TAU), queries[:500])
    row.notes.append(f"after compact p50 {np.percentile(after, 50):.3f}ms")
    shutil.rmtree(target, ignore_errors=True)
    if live_adds:
        live_scenario(row, index, queries[:300], live_adds)


def live_scenario(row: Row, index: PDQIndex, queries: NDArray[np.uint8], adds: int) -> None:
    """Keep adding 100k batches to the live index; record add times and query p50s."""
    rng = np.random.default_rng(99)
    next_id = 1 << 40
    add_times = []
    p50s = []
    for _ in range(adds):
        batch = rng.integers(0, 256, size=(ADD_BATCH, 32), dtype=np.uint8)
        started = time.perf_counter()
        index.add(batch, np.arange(next_id, next_id + ADD_BATCH, dtype=np.int64))
        add_times.append(time.perf_counter() - started)
        next_id += ADD_BATCH
        p50s.append(np.percentile(time_each(lambda q: index.query(q.tobytes(), TAU), queries), 50))
    row.notes.append(
        f"live: {adds} adds of 100k: add median {np.median(add_times):.2f}s, "
        f"p90 {np.percentile(add_times, 90):.2f}s, max {max(add_times):.2f}s "
        f"({sum(t > 1 for t in add_times)} over 1 s); query p50 over the run: median "
        f"{np.median(p50s):.3f}ms, max {max(p50s):.3f}ms"
    )


def bench_faiss_flat(
    row: Row,
    bank: NDArray[np.uint8],
    queries: NDArray[np.uint8],
    truth: GroundTruth,
    extra: NDArray[np.uint8],
    workdir: Path,
    bf_queries: int,
) -> None:
    import faiss

    faiss.omp_set_num_threads(1)
    started = time.perf_counter()
    flat = faiss.IndexBinaryFlat(256)
    flat.add(bank)
    row.build_s = time.perf_counter() - started
    row.memory_mb = flat.ntotal * flat.code_size / 1e6
    path = str(workdir / "flat.faiss")
    faiss.write_index_binary(flat, path)
    started = time.perf_counter()
    loaded = faiss.read_index_binary(path)
    row.load_s = time.perf_counter() - started
    os.unlink(path)
    del loaded

    sub = queries[:bf_queries]
    percentiles(row, time_each(lambda q: flat.range_search(q[None, :], TAU + 1), sub))
    started = time.perf_counter()
    lims, dists, labels = flat.range_search(sub, TAU + 1)
    row.batch_qps = len(sub) / (time.perf_counter() - started)
    found = [
        set(
            zip(
                labels[lims[i] : lims[i + 1]].tolist(),
                dists[lims[i] : lims[i + 1]].tolist(),
                strict=True,
            )
        )
        for i in range(len(sub))
    ]
    row.recall = recall_of(found, truth[: len(sub)])
    started = time.perf_counter()
    flat.add(extra)
    row.add_s = time.perf_counter() - started
    row.notes.append(f"{len(sub)} queries")


def bench_numpy(
    row: Row,
    bank: NDArray[np.uint8],
    queries: NDArray[np.uint8],
    truth: GroundTruth,
    bf_queries: int,
) -> None:
    sub = queries[: max(1, bf_queries // 10)]
    row.memory_mb = bank.nbytes / 1e6
    percentiles(row, time_each(lambda q: numpy_range_search(bank, q), sub))
    found = [set(numpy_range_search(bank, q)) for q in sub]
    row.recall = recall_of(found, truth[: len(sub)])
    row.notes.append(f"{len(sub)} queries")


def bench_pytx(
    row: Row,
    bank: NDArray[np.uint8],
    queries: NDArray[np.uint8],
    truth: GroundTruth,
    extra: NDArray[np.uint8],
) -> None:
    try:
        from threatexchange.signal_type.pdq.pdq_index import (
            PDQIndex as PytxPDQIndex,
        )
    except ImportError:
        row.notes.append("python-threatexchange not installed: skipped")
        return
    import faiss  # pytx depends on it

    faiss.omp_set_num_threads(1)
    hexes = [bytes(r).hex() for r in bank]
    gc.collect()
    before = rss_mb()
    started = time.perf_counter()
    index = PytxPDQIndex(zip(hexes, range(len(hexes)), strict=True))
    row.build_s = time.perf_counter() - started
    row.memory_mb = rss_mb() - before
    del hexes

    qhex = [bytes(q).hex() for q in queries]
    index.query(qhex[0])
    times = []
    found = []
    for q in qhex:
        started = time.perf_counter()
        matches = index.query(q)
        times.append(time.perf_counter() - started)
        found.append({(int(m.metadata), int(m.similarity_info.distance)) for m in matches})
    percentiles(row, np.array(times) * 1e3)
    row.recall = recall_of(found, truth)
    started = time.perf_counter()
    index.index.search_with_distance_in_result(qhex, TAU)
    row.batch_qps = len(qhex) / (time.perf_counter() - started)
    extra_hex = [bytes(r).hex() for r in extra]
    started = time.perf_counter()
    index.add_all(zip(extra_hex, range(len(bank), len(bank) + len(extra)), strict=True))
    row.add_s = time.perf_counter() - started
    row.notes.append("memory = process RSS growth (includes Python-side entry lists)")


# -------------------------------------------------------------------------- main


def fmt(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def print_table(rows: list[Row]) -> None:
    header = (
        "| bank | N | method | build s | memory MB | load s | p50 ms | p99 ms | batch q/s "
        "| add 100k s | recall |"
    )
    print(header)
    print("|" + "---|" * 11)
    for r in rows:
        print(
            f"| {r.bank} | {r.size:,} | {r.method} | {fmt(r.build_s, '.2f')} "
            f"| {fmt(r.memory_mb, '.0f')} | {fmt(r.load_s, '.3f')} | {fmt(r.p50_ms, '.3f')} "
            f"| {fmt(r.p99_ms, '.3f')} | {fmt(r.batch_qps, ',.0f')} | {fmt(r.add_s, '.2f')} "
            f"| {fmt(r.recall, '.4f')} |"
        )
    print()
    for r in rows:
        if r.notes:
            print(f"- {r.bank} {r.size:,} {r.method}: " + "; ".join(r.notes))
    print()
    by_key = {(r.bank, r.size, r.method): r for r in rows}
    for r in rows:
        if r.method != "brightline":
            continue
        for other in ("faiss-flat", "numpy-bf", "pytx-mih"):
            o = by_key.get((r.bank, r.size, other))
            if o and o.p50_ms and r.p50_ms:
                print(f"- {r.bank} {r.size:,}: p50 {o.p50_ms / r.p50_ms:.1f}x faster than {other}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument(
        "--bf-queries", type=int, default=200, help="queries timed for brute force (slow)"
    )
    parser.add_argument("--banks", nargs="+", default=["uniform", "clustered"])
    parser.add_argument("--cluster-fraction", type=float, default=0.1)
    parser.add_argument(
        "--pytx-max",
        type=int,
        default=1_000_000,
        help="largest bank python-threatexchange is run on",
    )
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument(
        "--live-adds",
        type=int,
        default=0,
        help="also add this many 100k batches to the live index, timing adds and queries",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    have_faiss = importlib.util.find_spec("faiss") is not None
    if not have_faiss:
        print("faiss not installed: brute force baseline is a numpy scan")

    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, cpus {os.cpu_count()}")
    rows: list[Row] = []
    workdir = Path(tempfile.mkdtemp(prefix="pdq-bench-"))
    print(f"numba warm-up (compile, or load from cache): {warm_up(workdir):.2f}s", flush=True)
    try:
        for size in args.sizes:
            for kind in args.banks:
                rng = np.random.default_rng([args.seed, size, len(kind)])
                started = time.perf_counter()
                bank = make_bank(kind, size, rng, args.cluster_fraction)
                queries = make_queries(bank, args.queries, rng)
                extra = rng.integers(0, 256, size=(ADD_BATCH, 32), dtype=np.uint8)
                truth = ground_truth(bank, queries)
                hits = sum(len(t) for t in truth)
                print(
                    f"[{kind} {size:,}] data + ground truth {time.perf_counter() - started:.1f}s, "
                    f"{hits} true matches for {len(queries)} queries",
                    flush=True,
                )
                row = Row(kind, size, "brightline")
                bench_ours(row, bank, queries, truth, extra, workdir, args.live_adds)
                rows.append(row)
                print(f"  brightline done: p50 {row.p50_ms:.3f}ms", flush=True)
                if have_faiss:
                    row = Row(kind, size, "faiss-flat")
                    bench_faiss_flat(row, bank, queries, truth, extra, workdir, args.bf_queries)
                else:
                    row = Row(kind, size, "numpy-bf")
                    bench_numpy(row, bank, queries, truth, args.bf_queries)
                rows.append(row)
                print(f"  brute force done: p50 {row.p50_ms:.3f}ms", flush=True)
                if size <= args.pytx_max:
                    row = Row(kind, size, "pytx-mih")
                    bench_pytx(row, bank, queries, truth, extra)
                    rows.append(row)
                    print("  pytx done", flush=True)
                gc.collect()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print()
    print_table(rows)


if __name__ == "__main__":
    main()
