"""Clearinghouse analysis: de-duplication, linking and triage over generated datasets.

Generates synthetic datasets (``brightline.clearinghouse.synth``) of increasing size, runs each
stage of the analysis and prints a table of stage times, throughput and peak memory, plus the
time to re-triage everything under changed weights (``replay``). Then, on samples of the
smallest dataset, compares linking against a naive O(n²) pairwise baseline (same identifiers,
same IP window; medians of several runs) and checks both find the same groups.

    .venv/bin/python benchmarks/clearinghouse_benchmark.py               # 10k and 100k
    .venv/bin/python benchmarks/clearinghouse_benchmark.py --sizes 10000 --repeats 5

Above 20k reports the generator streams each report straight into the columns
(``ColumnsBuilder``), so no dataset is ever held as objects; smaller ones are generated whole and
timed as the median of ``--repeats`` runs. "read" is building the columns, "d+l+t" is read +
cluster + link + bundle + features + triage (wall seconds; "cpu s" the CPU seconds of the same
stages, which other work on a shared machine inflates less), "retri" re-scores every report
under changed weights, "replay" does that under both configurations and explains every report
that moves, "explain" (``--explain``) makes every report's explained result. Precision and recall
of linking are over same-person pairs of the ground truth; "urgent" says whether every planted
urgent case is immediate and together they are the top of the ranking.

    .venv/bin/python benchmarks/clearinghouse_benchmark.py --reports 1000000 --explain

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
    ClusterConfig,
    HashSetLookup,
    IncomingReport,
    Linking,
    LinkingConfig,
    Tier,
    TriageResult,
    cluster_files,
    default_triage_config,
    demo_router,
    link_reports,
    replay,
)
from brightline.clearinghouse._unionfind import UnionFind
from brightline.clearinghouse.bundling import bundle_columns
from brightline.clearinghouse.clustering import cluster_columns
from brightline.clearinghouse.columns import ColumnsBuilder, ReportColumns, new_files
from brightline.clearinghouse.identifiers import person_identifiers
from brightline.clearinghouse.linking import link_columns
from brightline.clearinghouse.synth import GroundTruth, SynthConfig, generate, stream
from brightline.clearinghouse.triage import Scores, feature_columns, score_columns

T = TypeVar("T")


def timed(run: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[float, T]:
    start = time.perf_counter()
    out = run(*args, **kwargs)
    return time.perf_counter() - start, out


def peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux (bytes on macOS).
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def load_average() -> str:
    """The 1-, 5- and 15-minute load averages: other work on the machine slows every figure."""
    try:
        with open("/proc/loadavg", encoding="ascii") as fh:
            return " ".join(fh.read().split()[:3])
    except OSError:
        return "unknown"


def _quality(truth: GroundTruth, linking: Linking, scores: Scores) -> tuple[float, float, bool]:
    """Linking precision and recall over same-person pairs, and whether every planted urgent
    case is in the immediate tier and together they are the top of the ranking."""
    actual = truth.same_person_pairs()
    predicted = set()
    for group in linking.groups:
        members = sorted(group.persons)
        predicted |= {(a, b) for i, a in enumerate(members) for b in members[i + 1 :]}
    hits = len(predicted & actual)
    precision = hits / len(predicted) if predicted else 1.0
    recall = hits / len(actual) if actual else 1.0
    ids = scores.features.report_ids
    urgent = set(truth.urgent)
    top = {ids[i] for i in scores.ranked()[: len(urgent)].tolist()}
    rows = [i for i, r in enumerate(ids) if r in urgent]
    on_top = top == urgent and all(scores.tier_of(i) is Tier.IMMEDIATE for i in rows)
    return precision, recall, on_top


def progress(size: int, stage: str, seconds: float) -> None:
    """A line per finished stage on stderr, so a long run can be followed (and cut short)."""
    sys.stderr.write(
        f"[{size}] {stage}: {seconds:.2f} s, CPU so far {time.process_time():.0f} s, "
        f"peak {peak_rss_mb():.0f} MB, load {load_average()}\n"
    )
    sys.stderr.flush()


def explain_all(scores: Scores) -> list[TriageResult]:
    """Every report's explained result (what the console shows), made from the arrays."""
    return [scores.result(i) for i in range(len(scores.features))]


def run_size(
    size: int, seed: int, repeats: int, *, explain: bool, use_pdq: bool = True
) -> dict[str, float]:
    """One dataset: reports stream from the generator into the columns (never all held as
    objects above 20k reports), then every stage runs on the columns."""
    config = SynthConfig(reports=size, seed=seed, hub_share=0.01)
    router = demo_router()
    analysis = AnalysisConfig(clustering=ClusterConfig(use_pdq=use_pdq))
    triage_config = default_triage_config()
    changed = replace(
        triage_config,
        version="bench",
        weights={**triage_config.weights, "infant": 60, "linked_reports": 15},
    )
    held: list[IncomingReport] = []
    read_s = read_cpu = route_s = 0.0
    files = 0
    builder = ColumnsBuilder(default_phone_region=analysis.linking.default_phone_region)

    def take(report: IncomingReport) -> None:
        nonlocal read_s, read_cpu, route_s, files
        files += len(report.files)
        if repeats > 1:
            held.append(report)
            return
        start = time.perf_counter()
        cpu = time.process_time()
        builder.add(report)
        middle = time.perf_counter()
        read_cpu += time.process_time() - cpu
        router.route(report)
        read_s += middle - start
        route_s += time.perf_counter() - middle

    started = time.perf_counter()
    truth = stream(config, take)
    total_s = time.perf_counter() - started
    rows: list[dict[str, float]] = []
    for attempt in range(repeats):
        gc.collect()
        row: dict[str, float] = {}
        cpu = time.process_time()
        if repeats > 1:
            row["read"], columns = timed(
                ReportColumns.build,
                held,
                default_phone_region=analysis.linking.default_phone_region,
            )
            row["cpu"] = time.process_time() - cpu
            row["route"], _ = timed(lambda: [router.route(r) for r in held])
        else:
            row["read"], columns = timed(builder.finish)
            row["cpu"] = time.process_time() - cpu + read_cpu
            row["read"] += read_s
            row["route"] = route_s
        progress(size, "read", row["read"])
        lookup = HashSetLookup(md5=truth.known_md5)
        row["known"], new = timed(new_files, columns, lookup)
        progress(size, "known", row["known"])
        cpu = time.process_time()
        row["link"], linking = timed(
            link_columns, columns, analysis.linking, proxies=router.proxies
        )
        progress(size, "link", row["link"])
        row["cluster"], clustering = timed(cluster_columns, columns, analysis.clustering)
        progress(size, "cluster", row["cluster"])
        row["bundle"], bundling = timed(
            bundle_columns, columns, clustering, linking, analysis.bundling
        )
        row["features"], features = timed(
            feature_columns,
            columns,
            as_of=truth.as_of,
            new_files=new,
            linking=linking,
            bundling=bundling,
        )
        row["triage"], scores = timed(score_columns, features, triage_config)
        row["cpu"] += time.process_time() - cpu
        progress(size, "bundle+features+triage", row["bundle"] + row["features"] + row["triage"])
        row["retriage"], _ = timed(score_columns, features, changed)
        row["replay"], moved = timed(replay, features, triage_config, changed)
        row["moved"] = len(moved.moves)
        if explain:
            row["explain"], _ = timed(explain_all, scores)
        if attempt == repeats - 1:
            row["precision"], row["recall"], on_top = _quality(truth, linking, scores)
            row["urgent_on_top"] = float(on_top)
        rows.append(row)
    result = {key: statistics.median(r[key] for r in rows) for key in rows[0]}
    result.update({k: rows[-1][k] for k in ("precision", "recall", "urgent_on_top")})
    result["generate"] = total_s - (read_s + route_s if repeats == 1 else 0.0)
    result["files"] = files
    result["dedup_link_triage"] = sum(
        result[k] for k in ("read", "cluster", "link", "bundle", "features", "triage")
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
    parser.add_argument(
        "--reports", type=int, dest="sizes", nargs="+", help="same as --sizes (e.g. 1000000)"
    )
    parser.add_argument(
        "--explain", action="store_true", help="also time explaining every report's score"
    )
    parser.add_argument(
        "--no-pdq", action="store_true", help="cluster by exact digests only (no PDQ search)"
    )
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip the naive pairwise comparison"
    )
    args = parser.parse_args()

    # Warm up numba's JIT (the PDQ self-join kernels) so the first row is not charged for it.
    cluster_files(generate(SynthConfig(reports=200, seed=0)).reports)

    print(f"load average before: {load_average()}")
    print(
        f"{'reports':>8} {'files':>8} {'gen s':>6} {'read':>6} {'known':>6} {'cluster':>7} "
        f"{'link':>6} {'bundle':>6} {'feat':>6} {'triage':>6} {'route':>6} {'d+l+t s':>7} "
        f"{'cpu s':>6} {'rep/s':>8} {'retri':>6} {'replay':>6} {'moved':>6} {'explain':>7} "
        f"{'peak MB':>8} {'prec':>6} {'recall':>6} {'urgent':>6}"
    )
    for size in sorted(args.sizes):
        repeats = args.repeats if size <= 20_000 else 1
        r = run_size(size, args.seed, repeats, explain=args.explain, use_pdq=not args.no_pdq)
        explained = f"{r['explain']:>7.2f}" if "explain" in r else f"{'-':>7}"
        print(
            f"{size:>8} {int(r['files']):>8} {r['generate']:>6.1f} {r['read']:>6.2f} "
            f"{r['known']:>6.2f} {r['cluster']:>7.2f} {r['link']:>6.2f} {r['bundle']:>6.2f} "
            f"{r['features']:>6.2f} {r['triage']:>6.2f} {r['route']:>6.2f} "
            f"{r['dedup_link_triage']:>7.2f} {r['cpu']:>6.1f} "
            f"{size / r['dedup_link_triage']:>8.0f} "
            f"{r['retriage']:>6.2f} {r['replay']:>6.2f} {int(r['moved']):>6} {explained} "
            f"{r['peak_mb']:>8.0f} {r['precision']:>6.3f} {r['recall']:>6.3f} "
            f"{'yes' if r['urgent_on_top'] else 'NO':>6}",
            flush=True,
        )
    print(f"load average after: {load_average()}")
    if args.no_baseline:
        return

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
