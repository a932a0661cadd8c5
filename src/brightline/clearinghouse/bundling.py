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

import numpy as np
from numpy.typing import NDArray

from brightline.clearinghouse.clustering import Clustering
from brightline.clearinghouse.columns import ANNOTATION_BIT, ReportColumns
from brightline.clearinghouse.linking import Linking
from brightline.clearinghouse.model import FileAnnotation, FileRef, IncomingReport
from brightline.errors import InvalidInput

__all__ = [
    "Bundle",
    "BundleConfig",
    "BundleReason",
    "Bundling",
    "bundle_columns",
    "find_bundles",
]


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


_Item = tuple[tuple[FileRef, ...], tuple[str, ...], frozenset[BundleReason], int, int | None]


def find_bundles(
    reports: Sequence[IncomingReport],
    clustering: Clustering,
    linking: Linking | None = None,
    config: BundleConfig | None = None,
) -> Bundling:
    """Find bundles among the clusters (and annotated single files) of ``reports``."""
    return bundle_columns(
        ReportColumns.build(reports, identifiers=False), clustering, linking, config
    )


class _Identities:
    """Who each reported person is, for counting unrelated users: their linked group when
    linked, else the person; a report naming nobody counts as one user of its own."""

    def __init__(self, columns: ReportColumns, linking: Linking | None) -> None:
        self.columns = columns
        people = columns.person_count
        group = (
            np.full(people, -1, dtype=np.int64)
            if linking is None
            else columns.person_rows(linking.by_person)
        )
        groups = 0 if linking is None else len(linking.groups)
        self.person = np.where(group >= 0, group, groups + np.arange(people, dtype=np.int64))
        self.nobody = groups + people

    def count(self, reports: NDArray[np.int64]) -> int:
        start = self.columns.person_start[reports]
        sizes = self.columns.person_start[reports + 1] - start
        rows = np.repeat(start - np.cumsum(sizes) + sizes, sizes) + np.arange(int(sizes.sum()))
        codes = np.concatenate((self.person[rows], self.nobody + reports[sizes == 0]))
        return len(np.unique(codes))


def bundle_columns(
    columns: ReportColumns,
    clustering: Clustering,
    linking: Linking | None = None,
    config: BundleConfig | None = None,
) -> Bundling:
    """:func:`find_bundles` over columns."""
    config = config or BundleConfig()
    identities = _Identities(columns, linking)
    file_cluster = columns.file_rows(clustering.by_file)
    cluster_reasons: dict[int, set[BundleReason]] = {}
    file_reasons: dict[int, set[BundleReason]] = {}
    if config.use_annotations:
        viral = (columns.file_annotations & ANNOTATION_BIT[FileAnnotation.VIRAL]) != 0
        meme = (columns.file_annotations & ANNOTATION_BIT[FileAnnotation.POTENTIAL_MEME]) != 0
        batched = columns.batched[columns.file_report]
        for row in np.flatnonzero(viral | meme | batched).tolist():
            found = set()
            if viral[row]:
                found.add(BundleReason.VIRAL_ANNOTATION)
            if meme[row]:
                found.add(BundleReason.MEME_ANNOTATION)
            if batched[row]:
                found.add(BundleReason.BATCHED_REPORT)
            index = int(file_cluster[row])
            if index < 0:
                file_reasons.setdefault(row, set()).update(found)
            else:
                cluster_reasons.setdefault(index, set()).update(found)

    def cluster_users(index: int) -> int:
        reports = [columns.index[r] for r in clustering.clusters[index].reports]
        return identities.count(np.asarray(reports, dtype=np.int64))

    spread: dict[int, int] = {}
    for index, cluster in enumerate(clustering.clusters):
        if len(cluster.reports) < config.min_reports:
            continue
        users = spread[index] = cluster_users(index)
        if users >= config.min_unrelated_users:
            cluster_reasons.setdefault(index, set()).add(BundleReason.SPREAD)
    items: list[_Item] = []
    for index, why in cluster_reasons.items():
        cluster = clustering.clusters[index]
        count = spread[index] if index in spread else cluster_users(index)
        items.append((cluster.files, cluster.reports, frozenset(why), count, cluster.cluster_id))
    for row, why in file_reasons.items():
        ref = columns.file_ref(row)
        users = identities.count(columns.file_report[row : row + 1])
        items.append(((ref,), (ref[0],), frozenset(why), users, None))
    items.sort(key=lambda item: item[0][0])
    bundles = []
    by_file: dict[FileRef, int] = {}
    for index, (files, report_ids, reasons, users, cluster_id) in enumerate(items):
        bundles.append(Bundle(index + 1, files, report_ids, reasons, users, cluster_id))
        for ref in files:
            by_file[ref] = index
    return Bundling(bundles=tuple(bundles), by_file=by_file)
