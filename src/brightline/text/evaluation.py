"""Ranking metrics for variant discovery: precision and recall at k, mean reciprocal rank.

Used by the tests and by ``benchmarks/discovery_benchmark.py`` on synthetic data with planted
variants (:mod:`brightline.text.synthetic_posts`). Every method and the fused ranking are scored
separately, overall and per variant type, so that a regression in one method is not hidden by
the others.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from brightline.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class RankingMetrics:
    """Metrics of one ranking against one set of relevant tags.

    ``precision_at_k``: share of the first ``k`` ranks that are relevant (``k`` is the
    denominator even when the ranking is shorter). ``recall_at_k``: share of the relevant tags in
    the first ``k``. ``reciprocal_rank``: ``1 / rank`` of the first relevant tag (0 if none is
    ranked); averaged over several rankings (seeds, worlds) it is the mean reciprocal rank.
    """

    k: int
    relevant: int
    precision_at_k: float
    recall_at_k: float
    reciprocal_rank: float


def ranking_metrics(ranking: Sequence[str], relevant: Collection[str], k: int) -> RankingMetrics:
    """P@k, R@k and reciprocal rank of ``ranking`` (best first) against ``relevant``."""
    if k < 1:
        raise InvalidInput("k must be at least 1")
    relevant_set = set(relevant)
    top = ranking[:k]
    hits = sum(1 for tag in top if tag in relevant_set)
    first = next(
        (position for position, tag in enumerate(ranking, start=1) if tag in relevant_set), None
    )
    count = len(relevant_set)
    return RankingMetrics(
        k=k,
        relevant=count,
        precision_at_k=hits / k,
        recall_at_k=hits / count if count else 0.0,
        reciprocal_rank=1.0 / first if first is not None else 0.0,
    )


def metrics_by_type(
    ranking: Sequence[str], types: Mapping[str, str], k: int
) -> dict[str, RankingMetrics]:
    """Metrics overall (key ``"all"``) and for each variant type.

    For one type, the variants of *other* types are removed from the ranking first: they are
    neither hits nor misses for this type. P@k per type is therefore bounded by the number of
    variants of that type over ``k``; recall and reciprocal rank are the figures to compare.
    """
    results = {"all": ranking_metrics(ranking, types.keys(), k)}
    for kind in sorted(set(types.values())):
        own = {tag for tag, tag_type in types.items() if tag_type == kind}
        filtered = [tag for tag in ranking if tag in own or tag not in types]
        results[kind] = ranking_metrics(filtered, own, k)
    return results


def mean_metrics(runs: Sequence[RankingMetrics]) -> RankingMetrics:
    """The mean of metrics over several rankings (worlds, seeds): the mean reciprocal rank."""
    if not runs:
        raise InvalidInput("no metrics to average")
    count = len(runs)
    return RankingMetrics(
        k=runs[0].k,
        relevant=round(sum(run.relevant for run in runs) / count),
        precision_at_k=sum(run.precision_at_k for run in runs) / count,
        recall_at_k=sum(run.recall_at_k for run in runs) / count,
        reciprocal_rank=sum(run.reciprocal_rank for run in runs) / count,
    )
