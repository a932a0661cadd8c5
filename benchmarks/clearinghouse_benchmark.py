"""Clearinghouse analysis: de-duplication, linking and triage over generated datasets.

Generates synthetic datasets (``brightline.clearinghouse.synth``) of increasing size, runs each
stage of the analysis and prints a table of stage times, throughput and peak memory, plus the
time to re-triage everything under changed weights (``replay``). Then, on samples of the
smallest dataset, compares linking against a naive O(n²) pairwise baseline (same identifiers,
same IP window; medians of several runs) and checks both find the same groups.

    .venv/bin/python benchmarks/clearinghouse_benchmark.py               # 10k and 100k
    .venv/bin/python benchmarks/clearinghouse_benchmark.py --sizes 10000 --repeats 5

Peak memory is the process's maximum resident set size, which only grows: each row shows the
peak reached so far (datasets run smallest first).
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

from brightline.clearinghouse import (
    AnalysisConfig,
    HashSetLookup,
    IncomingReport,
    LinkingConfig,
    cluster_files,
    default_triage_config,
    demo_router,
    extract_features,
    find_bundles,
    link_reports,
    mark_known,
    replay,
    triage,
)
from brightline.clearinghouse._unionfind import UnionFind
from brightline.clearinghouse.identifiers import person_identifiers
from brightline.clearinghouse.synth import SynthConfig, generate

T = TypeVar("T")


def timed(run: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[float, T]:
    start = time.perf_counter()
    out = run(*args, **kwargs)
    return time.perf_counter() - start, out


def peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux (bytes on macOS).
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def run_size(size: int, seed: int, repeats: int) -> dict[str, float]:
    gen_s, dataset = timed(generate, SynthConfig(reports=size, seed=seed, hub_share=0.01))
    reports = dataset.reports
    as_of = dataset.truth.as_of
    router = demo_router()
    lookup = HashSetLookup(md5=dataset.truth.known_md5)
    config = AnalysisConfig()
    triage_config = default_triage_config()
    rows: list[dict[str, float]] = []
    for _ in range(repeats):
        gc.collect()
        row: dict[str, float] = {}
        row["known"], known = timed(mark_known, reports, lookup)
        row["cluster"], clustering = timed(cluster_files, reports, config.clustering)
        row["link"], linking = timed(link_reports, reports, config.linking, proxies=router.proxies)
        row["bundle"], bundling = timed(find_bundles, reports, clustering, linking, config.bundling)
        row["features"], features = timed(
            extract_features, reports, as_of=as_of, known=known, linking=linking, bundling=bundling
        )
        row["triage"], _ = timed(triage, features, triage_config)
        row["route"], _ = timed(lambda: [router.route(r) for r in reports])
        changed = replace(
            triage_config,
            version="bench",
            weights={**triage_config.weights, "infant": 60, "linked_reports": 15},
        )
        row["replay"], moved = timed(replay, features, triage_config, changed)
        row["moved"] = len(moved.moves)
        rows.append(row)
    result = {key: statistics.median(r[key] for r in rows) for key in rows[0]}
    result["generate"] = gen_s
    result["files"] = sum(len(r.files) for r in reports)
    result["dedup_link_triage"] = sum(
        result[k] for k in ("cluster", "link", "bundle", "features", "triage")
    )
    result["peak_mb"] = peak_rss_mb()
    return result


# -- the naive baseline -----------------------------------------------------------------------


def naive_link(
    reports: Sequence[IncomingReport], window_s: float
) -> list[frozenset[tuple[str, int]]]:
    """Pairwise: compare every two persons' identifier sets and IP sightings (O(n²))."""
    people: list[tuple[tuple[str, int], set[str], list[tuple[str, datetime]]]] = []
    for report in reports:
        single = len(report.persons) == 1
        for index, person in enumerate(report.persons):
            identifiers, _ = person_identifiers(report, person, own_report_key=single)
            keys = {i.key for i in identifiers}
            sightings = [(e.ip, e.at) for e in person.ip_events if e.at is not None]
            people.append(((report.report_id, index), keys, sightings))
    uf = UnionFind(len(people))
    for i in range(len(people)):
        _, keys_a, ips_a = people[i]
        for j in range(i + 1, len(people)):
            _, keys_b, ips_b = people[j]
            if keys_a & keys_b or any(
                ip_a == ip_b and abs((at_a - at_b).total_seconds()) <= window_s
                for ip_a, at_a in ips_a
                for ip_b, at_b in ips_b
            ):
                uf.union(i, j)
    return sorted(frozenset(people[n][0] for n in members) for members in uf.components(min_size=2))


def baseline(sizes: Sequence[int], seed: int, repeats: int) -> list[dict[str, float]]:
    # No hubs, proxies linked: the fast path then has exactly the naive semantics, except
    # prior-report references to reports outside the sample (which the naive path cannot see
    # either); the groups are compared.
    dataset = generate(SynthConfig(reports=max(sizes), seed=seed, proxy_share=0.0))
    config = LinkingConfig(max_reports_per_identifier=10**9, proxy_policy="link")
    window = config.ip_window.total_seconds()
    rows = []
    for size in sizes:
        sample = dataset.reports[:size]
        naive_times, fast_times = [], []
        naive_groups: list[frozenset[tuple[str, int]]] = []
        fast_groups: list[frozenset[tuple[str, int]]] = []
        for _ in range(repeats):
            t, naive_groups = timed(naive_link, sample, window)
            naive_times.append(t)
            t, linking = timed(link_reports, sample, config)
            fast_times.append(t)
            fast_groups = sorted(frozenset(g.persons) for g in linking.groups)
        naive_s, fast_s = statistics.median(naive_times), statistics.median(fast_times)
        rows.append(
            {
                "sample": size,
                "naive": naive_s,
                "fast": fast_s,
                "ratio": naive_s / fast_s,
                "same": float(naive_groups == fast_groups),
                "groups": len(fast_groups),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--repeats", type=int, default=3, help="runs per size up to 20k reports (1 above)"
    )
    parser.add_argument("--baseline-sizes", type=int, nargs="+", default=[500, 1000, 2000])
    parser.add_argument("--baseline-repeats", type=int, default=5)
    args = parser.parse_args()

    # Warm up numba's JIT (the PDQ index kernels) so the first row is not charged for it.
    cluster_files(generate(SynthConfig(reports=200, seed=0)).reports)

    print(
        f"{'reports':>8} {'files':>8} {'gen s':>6} {'known':>6} {'cluster':>7} {'link':>6} "
        f"{'bundle':>6} {'feat':>6} {'triage':>6} {'route':>6} {'d+l+t s':>7} {'rep/s':>8} "
        f"{'replay':>6} {'moved':>6} {'peak MB':>8}"
    )
    for size in sorted(args.sizes):
        r = run_size(size, args.seed, args.repeats if size <= 20_000 else 1)
        print(
            f"{size:>8} {int(r['files']):>8} {r['generate']:>6.1f} {r['known']:>6.2f} "
            f"{r['cluster']:>7.2f} {r['link']:>6.2f} {r['bundle']:>6.2f} {r['features']:>6.2f} "
            f"{r['triage']:>6.2f} {r['route']:>6.2f} {r['dedup_link_triage']:>7.2f} "
            f"{size / r['dedup_link_triage']:>8.0f} {r['replay']:>6.2f} {int(r['moved']):>6} "
            f"{r['peak_mb']:>8.0f}",
            flush=True,
        )

    print()
    print(f"linking vs naive pairwise (median of {args.baseline_repeats} runs)")
    print(f"{'sample':>7} {'naive s':>8} {'fast s':>8} {'ratio':>7} {'groups':>7} {'same':>5}")
    rows = baseline(args.baseline_sizes, args.seed, args.baseline_repeats)
    for row in rows:
        print(
            f"{int(row['sample']):>7} {row['naive']:>8.3f} {row['fast']:>8.3f} "
            f"{row['ratio']:>6.0f}x {int(row['groups']):>7} {'yes' if row['same'] else 'NO':>5}",
            flush=True,
        )
    largest, biggest = rows[-1], max(args.sizes)
    scale = (biggest / largest["sample"]) ** 2
    print(
        f"naive pairwise linking of {biggest} reports, extrapolated (n²) from "
        f"{int(largest['sample'])}: {largest['naive'] * scale:.0f} s"
    )


if __name__ == "__main__":
    main()
