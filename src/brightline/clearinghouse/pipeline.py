"""The analysis pipeline: known/new → clusters → links → bundles → triage → routing.

Each stage is a plain function of the reports and the earlier stages' results
(:func:`~brightline.clearinghouse.known.mark_known`,
:func:`~brightline.clearinghouse.clustering.cluster_files`,
:func:`~brightline.clearinghouse.linking.link_reports`,
:func:`~brightline.clearinghouse.bundling.find_bundles`,
:func:`~brightline.clearinghouse.triage.extract_features` and
:func:`~brightline.clearinghouse.triage.triage`, :meth:`Router.route`); :func:`analyse` runs
them in order and keeps every result, so the investigator console can show a report's cluster,
bundle, linked reports, score explanation and referrals side by side. No database: the intake
(which stores reports) and the console (which shows them) call this.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from brightline.clearinghouse.bundling import BundleConfig, Bundling, bundle_columns
from brightline.clearinghouse.clustering import ClusterConfig, Clustering, cluster_columns
from brightline.clearinghouse.columns import ReportColumns
from brightline.clearinghouse.known import KnownMaterialLookup, KnownStatus, mark_known
from brightline.clearinghouse.linking import Linking, LinkingConfig, link_columns
from brightline.clearinghouse.model import IncomingReport
from brightline.clearinghouse.networks import NetworkTable
from brightline.clearinghouse.routing import Router, RoutingDecision
from brightline.clearinghouse.triage import (
    ReportFeatures,
    TriageConfig,
    TriageResult,
    default_triage_config,
    feature_columns,
    new_files_of,
    rank,
    triage,
)

__all__ = ["Analysis", "AnalysisConfig", "analyse"]

logger = logging.getLogger(__name__)
_T = TypeVar("_T")


@dataclass(frozen=True)
class AnalysisConfig:
    clustering: ClusterConfig = field(default_factory=ClusterConfig)
    linking: LinkingConfig = field(default_factory=LinkingConfig)
    bundling: BundleConfig = field(default_factory=BundleConfig)


@dataclass(frozen=True)
class Analysis:
    reports: Mapping[str, IncomingReport]
    known: KnownStatus | None
    clustering: Clustering
    linking: Linking
    bundling: Bundling
    features: tuple[ReportFeatures, ...]
    results: Mapping[str, TriageResult]
    routing: Mapping[str, RoutingDecision]
    timings: Mapping[str, float]
    """Seconds per stage."""

    def ranked(self) -> list[TriageResult]:
        """Every report, most urgent first."""
        return rank(self.results.values())


def analyse(
    reports: Sequence[IncomingReport],
    *,
    as_of: datetime,
    lookup: KnownMaterialLookup | None = None,
    config: AnalysisConfig | None = None,
    triage_config: TriageConfig | None = None,
    router: Router | None = None,
    proxies: NetworkTable[str] | None = None,
) -> Analysis:
    """Run every stage over ``reports``; ``as_of`` is the triage time (recency).

    Without a ``lookup`` no file is known or new (new material scores nothing). Without a
    ``router`` nothing is routed. ``proxies`` (the operator's proxy/VPN ranges) defaults to the
    router's.
    """
    config = config or AnalysisConfig()
    triage_config = triage_config or default_triage_config()
    timings: dict[str, float] = {}

    def timed(name: str, run: Callable[[], _T]) -> _T:
        start = time.perf_counter()
        out = run()
        timings[name] = time.perf_counter() - start
        return out

    known = None if lookup is None else timed("known", lambda: mark_known(reports, lookup))
    columns = timed(
        "columns",
        lambda: ReportColumns.build(
            reports, default_phone_region=config.linking.default_phone_region
        ),
    )
    clustering = timed("cluster", lambda: cluster_columns(columns, config.clustering))
    if proxies is None and router is not None:
        proxies = router.proxies
    linking = timed("link", lambda: link_columns(columns, config.linking, proxies=proxies))
    bundling = timed(
        "bundle", lambda: bundle_columns(columns, clustering, linking, config.bundling)
    )

    def features_of() -> list[ReportFeatures]:
        new = None if known is None else new_files_of(columns, known)
        return feature_columns(
            columns, as_of=as_of, new_files=new, linking=linking, bundling=bundling
        ).to_list()

    features = timed("features", features_of)
    results = timed("triage", lambda: triage(features, triage_config))
    routing: dict[str, RoutingDecision] = {}
    if router is not None:
        routing = timed("route", lambda: {r.report_id: router.route(r) for r in reports})
    logger.info(
        "analysed %d reports: %d clusters, %d linked groups, %d bundles (%s)",
        len(reports),
        len(clustering.clusters),
        len(linking.groups),
        len(bundling.bundles),
        ", ".join(f"{k} {v:.2f}s" for k, v in timings.items()),
    )
    return Analysis(
        reports={r.report_id: r for r in reports},
        known=known,
        clustering=clustering,
        linking=linking,
        bundling=bundling,
        features=tuple(features),
        results={r.report_id: r for r in results},
        routing=routing,
        timings=timings,
    )
