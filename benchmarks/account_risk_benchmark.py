"""Account risk: ranking AUC and time on synthetic labelled accounts, against a baseline.

The baseline, in the same run, is the raw count of term hits per account (what one would sort
by without a model). Every world is generated from placeholder nonsense
(:mod:`brightline.text.synthetic_accounts`); confirmed accounts seed the expansion and are
left out of the evaluation. Calibrated weights are fitted on one world and evaluated on the
others (never on the world they were fitted on).

    python benchmarks/account_risk_benchmark.py [--worlds 3] [--accounts 600]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections import Counter

from brightline.text import MigrationExtractor, TermMatcher
from brightline.text.account_risk import (
    AccountFeatures,
    AccountRiskScorer,
    RiskWeights,
    fit_weights,
    ranking_auc,
    score_accounts,
)
from brightline.text.synthetic_accounts import (
    SyntheticAccounts,
    SyntheticAccountsConfig,
    generate_accounts,
)


def _auc(world: SyntheticAccounts, scores: dict[str, float]) -> float:
    accounts = [a for a in world.labels if a not in world.confirmed]
    return ranking_auc([scores[a] for a in accounts], [world.labels[a] for a in accounts])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worlds", type=int, default=3, help="evaluation worlds (seeds 1..N)")
    parser.add_argument("--accounts", type=int, default=600)
    args = parser.parse_args()

    extractor = MigrationExtractor()
    training = generate_accounts(SyntheticAccountsConfig(seed=0, accounts=args.accounts))
    train_scorer = AccountRiskScorer(matcher=TermMatcher([training.term_list]), extractor=extractor)
    train_features = train_scorer.features(training.posts, confirmed=training.confirmed)
    started = time.perf_counter()
    calibrated = fit_weights(
        train_features, [training.labels[item.account] for item in train_features]
    )
    fit_seconds = time.perf_counter() - started

    rows: dict[str, list[float]] = {}
    times: dict[str, list[float]] = {}

    def record(name: str, auc: float, seconds: float) -> None:
        rows.setdefault(name, []).append(auc)
        times.setdefault(name, []).append(seconds)

    posts = 0
    for seed in range(1, args.worlds + 1):
        world = generate_accounts(SyntheticAccountsConfig(seed=seed, accounts=args.accounts))
        posts += len(world.posts)
        started = time.perf_counter()
        matcher = TermMatcher([world.term_list])
        hits = Counter(dict.fromkeys(world.labels, 0))
        texts = [post.text for post in world.posts]
        for post, post_hits in zip(world.posts, matcher.match_many(texts), strict=True):
            hits[post.account] += len(post_hits)
        baseline = {account: float(count) for account, count in hits.items()}
        record("baseline: raw count of term hits", _auc(world, baseline), _since(started))

        scorer = AccountRiskScorer(matcher=matcher, extractor=extractor)
        started = time.perf_counter()
        with_links = scorer.features(world.posts, confirmed=world.confirmed)
        feature_seconds = time.perf_counter() - started
        alone = scorer.features(world.posts)
        for name, weights, features in (
            ("default weights, no expansion", RiskWeights.default(), alone),
            ("default weights, with expansion", RiskWeights.default(), with_links),
            ("calibrated, no expansion", calibrated, alone),
            ("calibrated, with expansion", calibrated, with_links),
        ):
            started = time.perf_counter()
            scores = _scores(features, weights)
            record(name, _auc(world, scores), feature_seconds + time.perf_counter() - started)

    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(
        f"Python {platform.python_version()}, {platform.machine()}, one core (load average "
        f"{load}); {args.worlds} worlds of {args.accounts} accounts ({posts:,} posts in all); "
        f"calibrated on a separate world in {fit_seconds * 1000:.0f} ms "
        f"({calibrated.calibration and calibrated.calibration['iterations']} IRLS steps)."
    )
    print()
    print("| score | AUC, mean | AUC, worst world | seconds per world (signals + score) |")
    print("|---|---:|---:|---:|")
    for name, aucs in rows.items():
        print(
            f"| {name} | {statistics.mean(aucs):.3f} | {min(aucs):.3f} | "
            f"{statistics.median(times[name]):.2f} |"
        )


def _since(started: float) -> float:
    return time.perf_counter() - started


def _scores(features: list[AccountFeatures], weights: RiskWeights) -> dict[str, float]:
    return {item.account: item.score for item in score_accounts(features, weights)}


if __name__ == "__main__":
    main()
