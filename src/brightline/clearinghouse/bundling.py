"""Bundling: content spread by many unrelated users is one bundle, classed informational.

A bundle is one piece of content (a cluster of the same file, or a single file) that

* a provider annotated ``viral`` or ``potentialMeme``, or
* a provider filed in a ``batchedReport`` (``VIRAL_POTENTIAL_MEME``), or
* appears in at least ``min_reports`` reports of at least ``min_unrelated_users`` *unrelated*
  users: persons in different linked groups (:mod:`brightline.clearinghouse.linking`), so one
  offender's many accounts count once.

Which reports end up informational because of a bundle is triage's decision
(:mod:`brightline.clearinghouse.triage`): a report whose every file is in a bundle is
informational unless something else in it says otherwise (an escalation, an enticement,
sextortion or trafficking incident, ... — configured there).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from brightline.clearinghouse.clustering import Clustering
from brightline.clearinghouse.linking import Linking
from brightline.clearinghouse.model import FileAnnotation, FileRef, IncomingReport
from brightline.errors import InvalidInput

__all__ = ["Bundle", "BundleConfig", "BundleReason", "Bundling", "find_bundles"]


class BundleReason(enum.StrEnum):
    VIRAL_ANNOTATION = "viral_annotation"
    MEME_ANNOTATION = "meme_annotation"
    BATCHED_REPORT = "batched_report"
    SPREAD = "spread"


@dataclass(frozen=True, slots=True)
class BundleConfig:
    min_reports: int = 40
    """A cluster in fewer reports is never bundled for its spread alone."""
    min_unrelated_users: int = 25
    """...nor one shared by fewer unrelated users. Both are high on purpose: known material
    passed around by a few dozen offenders is distribution, not viral sharing."""
    use_annotations: bool = True
    """Whether providers' viral/meme annotations and batched reports make bundles."""

    def __post_init__(self) -> None:
        if self.min_reports < 2 or self.min_unrelated_users < 2:
            raise InvalidInput("min_reports and min_unrelated_users must be at least 2")


@dataclass(frozen=True, slots=True)
class Bundle:
    bundle_id: int
    files: tuple[FileRef, ...]
    reports: tuple[str, ...]
    reasons: frozenset[BundleReason]
    unrelated_users: int
    cluster_id: int | None
    """The cluster the bundle is (None for a single file bundled by its annotations)."""


@dataclass(frozen=True)
class Bundling:
    bundles: tuple[Bundle, ...]
    by_file: Mapping[FileRef, int]

    def bundle_of(self, ref: FileRef) -> Bundle | None:
        index = self.by_file.get(ref)
        return None if index is None else self.bundles[index]

    def fully_bundled(self, report: IncomingReport) -> bool:
        """The report has files and every one of them is in a bundle."""
        return bool(report.files) and all(ref in self.by_file for ref in report.file_refs())


def _annotation_reasons(
    report: IncomingReport, annotations: frozenset[FileAnnotation]
) -> set[BundleReason]:
    reasons = set()
    if FileAnnotation.VIRAL in annotations:
        reasons.add(BundleReason.VIRAL_ANNOTATION)
    if FileAnnotation.POTENTIAL_MEME in annotations:
        reasons.add(BundleReason.MEME_ANNOTATION)
    if report.batched:
        reasons.add(BundleReason.BATCHED_REPORT)
    return reasons


_Item = tuple[tuple[FileRef, ...], tuple[str, ...], frozenset[BundleReason], int, int | None]


def find_bundles(
    reports: Sequence[IncomingReport],
    clustering: Clustering,
    linking: Linking | None = None,
    config: BundleConfig | None = None,
) -> Bundling:
    """Find bundles among the clusters (and annotated single files) of ``reports``."""
    config = config or BundleConfig()
    by_id = {r.report_id: r for r in reports}
    cluster_reasons: dict[int, set[BundleReason]] = {}
    file_reasons: dict[FileRef, set[BundleReason]] = {}
    if config.use_annotations:
        for report in reports:
            for file in report.files:
                ref = (report.report_id, file.file_id)
                found = _annotation_reasons(report, file.annotations)
                if found:
                    index = clustering.by_file.get(ref)
                    if index is None:
                        file_reasons.setdefault(ref, set()).update(found)
                    else:
                        cluster_reasons.setdefault(index, set()).update(found)
    spread: dict[int, int] = {}
    for index, cluster in enumerate(clustering.clusters):
        if len(cluster.reports) < config.min_reports:
            continue
        users = _unrelated_users([by_id[r] for r in cluster.reports], linking)
        spread[index] = users
        if users >= config.min_unrelated_users:
            cluster_reasons.setdefault(index, set()).add(BundleReason.SPREAD)
    items: list[_Item] = []
    for index, why in cluster_reasons.items():
        cluster = clustering.clusters[index]
        known = spread.get(index)
        count = (
            known
            if known is not None
            else _unrelated_users([by_id[r] for r in cluster.reports], linking)
        )
        items.append((cluster.files, cluster.reports, frozenset(why), count, cluster.cluster_id))
    for ref, why in file_reasons.items():
        users = _unrelated_users([by_id[ref[0]]], linking)
        items.append(((ref,), (ref[0],), frozenset(why), users, None))
    items.sort(key=lambda item: item[0][0])
    bundles = []
    by_file: dict[FileRef, int] = {}
    for index, (files, report_ids, reasons, users, cluster_id) in enumerate(items):
        bundles.append(Bundle(index + 1, files, report_ids, reasons, users, cluster_id))
        for ref in files:
            by_file[ref] = index
    return Bundling(bundles=tuple(bundles), by_file=by_file)


def _unrelated_users(reports: Sequence[IncomingReport], linking: Linking | None) -> int:
    """Distinct persons, counting each linked group once (a report naming nobody counts one)."""
    identities: set[str] = set()
    for report in reports:
        if not report.persons:
            identities.add(f"r{report.report_id}")
        for index in range(len(report.persons)):
            if linking is None:
                identities.add(f"p{report.report_id}\x1f{index}")
            else:
                identities.add(linking.identity(report, index))
    return len(identities)
