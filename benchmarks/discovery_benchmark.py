"""Variant discovery on synthetic posts: precision, recall and reciprocal rank per method and type.

Run from the repository root::

    python benchmarks/discovery_benchmark.py            # the tables in docs/text.md
    python benchmarks/discovery_benchmark.py --worlds 1 --k 10

For each setting (easy, hard) it generates ``--worlds`` synthetic worlds
(:mod:`brightline.text.synthetic_posts`, seeds 0, 1, ...), runs :func:`discover` with the
default configuration and the world's seed tags, and scores each method's ranking and the
fused one against the planted variants: P@k, R@k and the reciprocal rank of the first variant,
averaged over the worlds (so the last is a mean reciprocal rank). Per variant type it reports
R@k and MRR with the variants of other types left out of the ranking. ``rare`` is the recall of
the variants planted in only a few posts (hard setting). Time is for :func:`discover` alone
(generation excluded), median over the worlds, one core.

A last line times an adversarial input: posts of hundreds of distinct random tags each, which
the caps (tags per post, vocabulary) keep bounded.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import time
from collections.abc import Sequence

from brightline.text.discovery import DiscoveryConfig, Method, Post, discover
from brightline.text.evaluation import RankingMetrics, mean_metrics, metrics_by_type
from brightline.text.synthetic_posts import SyntheticConfig, VariantType, generate_posts

ROWS = [*(method.value for method in Method), "fused"]


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def evaluate(
    config: SyntheticConfig, k: int
) -> tuple[dict[str, dict[str, RankingMetrics]], dict[str, float], dict[str, float]]:
    """Metrics per row and type (averaged over worlds), rare-variant recall, and sizes/timings."""
    dataset = generate_posts(config)
    started = time.perf_counter()
    result = discover(dataset.posts, dataset.truth.seeds)
    elapsed = time.perf_counter() - started
    types = {tag: kind.value for tag, kind in dataset.truth.variant_types.items()}
    rankings = {
        method.value: [entry.tag for entry in result.by_method[method]] for method in Method
    }
    rankings["fused"] = [candidate.tag for candidate in result.candidates]
    metrics = {row: metrics_by_type(rankings[row], types, k) for row in ROWS}
    rare = dataset.truth.rare_variants
    rare_recall = {
        row: (
            sum(1 for tag in rankings[row][:k] if tag in rare) / len(rare) if rare else float("nan")
        )
        for row in ROWS
    }
    info = {
        "seconds": elapsed,
        "posts": float(result.posts),
        "vocabulary": float(result.vocabulary),
        "variants": float(len(types)),
    }
    return metrics, rare_recall, info


def adversarial_seconds(posts: int, tags_per_post: int) -> tuple[float, int, int]:
    rng = random.Random(7)
    letters = "bdfgklmnprstvz"
    flood = [
        Post(
            account=f"a{rng.randrange(50)}",
            time=float(number),
            hashtags=(
                "zorblax",
                *("".join(rng.choice(letters) for _ in range(8)) for _ in range(tags_per_post)),
            ),
        )
        for number in range(posts)
    ]
    started = time.perf_counter()
    result = discover(flood, ["zorblax"], config=DiscoveryConfig())
    return time.perf_counter() - started, result.vocabulary, result.tags_dropped


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--worlds", type=int, default=3, help="worlds per setting (default 3)")
    parser.add_argument("--k", type=int, default=20, help="cut-off for P@k and R@k (default 20)")
    parser.add_argument("--no-adversarial", action="store_true", help="skip the flood timing")
    args = parser.parse_args(argv)
    k = args.k

    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(
        f"Python {platform.python_version()}, {cpu_model()}, one core (load average {load}); "
        f"{args.worlds} worlds per setting; k = {k}."
    )
    kinds = [kind.value for kind in VariantType]
    for name, make in (("easy", SyntheticConfig.easy), ("hard", SyntheticConfig.hard)):
        runs = [evaluate(make(seed), k) for seed in range(args.worlds)]
        info = {key: statistics.median(run[2][key] for run in runs) for key in runs[0][2]}
        print()
        print(
            f"**{name}**: {info['posts']:,.0f} posts, {info['vocabulary']:,.0f} tags, "
            f"{info['variants']:.0f} planted variants (P@{k} at most "
            f"{min(1.0, info['variants'] / k):.2f}); discover() {info['seconds']:.2f} s (median)"
        )
        print()
        header = f"| method | P@{k} | R@{k} | MRR | " + " | ".join(kinds) + " | rare |"
        print(header)
        print("|---|---:|---:|---:|" + "---:|" * (len(kinds) + 1))
        for row in ROWS:
            overall = mean_metrics([run[0][row]["all"] for run in runs])
            cells = []
            for kind in kinds:
                per_type = [run[0][row][kind] for run in runs if kind in run[0][row]]
                if per_type:
                    averaged = mean_metrics(per_type)
                    cells.append(f"{averaged.recall_at_k:.2f} / {averaged.reciprocal_rank:.2f}")
                else:
                    cells.append("-")
            rare_values = [run[1][row] for run in runs if run[1][row] == run[1][row]]
            rare = f"{statistics.mean(rare_values):.2f}" if rare_values else "-"
            print(
                f"| {row} | {overall.precision_at_k:.2f} | {overall.recall_at_k:.2f} | "
                f"{overall.reciprocal_rank:.2f} | " + " | ".join(cells) + f" | {rare} |"
            )
    if not args.no_adversarial:
        seconds, vocabulary, dropped = adversarial_seconds(posts=2000, tags_per_post=300)
        print()
        print(
            "Adversarial flood: 2,000 posts of 301 distinct tags each: "
            f"discover() {seconds:.2f} s, "
            f"{vocabulary:,} tags kept, {dropped:,} tag occurrences dropped by the caps."
        )


if __name__ == "__main__":
    main()
