"""De-duplication: the same file across reports is one cluster.

Two files are *linked* when they share an md5 or a sha1, or when both have a usable PDQ hash
(quality unknown or at least ``min_pdq_quality``) within ``pdq_threshold`` bits of each other. A
cluster is a connected component of that graph (single linkage), found over arrays
(:func:`~brightline.clearinghouse._unionfind.component_labels`). The work is done on
:class:`~brightline.clearinghouse.columns.ReportColumns` (:func:`cluster_columns`); digests are
grouped with numpy, never compared pairwise.

**Chains.** Single linkage is transitive: if A is within the threshold of B and B of C, then A,
B and C are one cluster even when A and C are farther apart than the threshold (a re-encode of
a re-encode). That is the only way a cluster holds files farther apart than the threshold: every
member reaches every other through a chain of links, each an exact digest match or a PDQ
distance within the threshold. The tests check exactly this, and that no two linked files ever
end up in different clusters. Operators who want tighter clusters lower ``pdq_threshold``.

Near-duplicate search is one exact self-join over the distinct usable PDQ hashes
(:func:`brightline.index.pdq_pairs_within`: every pair within the threshold, found by bucketing
16-bit chunks rather than by querying an index once per hash), on a few threads.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from brightline.clearinghouse._unionfind import component_labels
from brightline.clearinghouse.columns import ReportColumns
from brightline.clearinghouse.model import FileRef, IncomingReport
from brightline.errors import InvalidInput
from brightline.index import DEFAULT_MAX_DISTANCE, pdq_pairs_within

__all__ = ["ClusterConfig", "Clustering", "FileCluster", "cluster_columns", "cluster_files"]


@dataclass(frozen=True, slots=True)
class ClusterConfig:
    pdq_threshold: int = DEFAULT_MAX_DISTANCE
    """Largest PDQ Hamming distance that links two files (DOMAIN.md §1: 31)."""
    min_pdq_quality: int = 50
    """PDQ hashes of known lower quality are only compared exactly (md5/sha1), never by PDQ."""
    use_pdq: bool = True
    workers: int = 0
    """Threads for the PDQ self-join; 0 = one per CPU (at most 8)."""

    def __post_init__(self) -> None:
        if isinstance(self.pdq_threshold, bool) or not 0 <= self.pdq_threshold <= 64:
            raise InvalidInput("pdq_threshold must be 0 to 64")
        if not 0 <= self.min_pdq_quality <= 100:
            raise InvalidInput("min_pdq_quality must be 0 to 100")
        if self.workers < 0:
            raise InvalidInput("workers must be 0 (automatic) or more")


@dataclass(frozen=True, slots=True)
class FileCluster:
    """Files (two or more) that are the same content; sorted, so equal input → equal cluster."""

    cluster_id: int
    files: tuple[FileRef, ...]
    reports: tuple[str, ...]

    @property
    def size(self) -> int:
        return len(self.files)


@dataclass(frozen=True)
class Clustering:
    """Every cluster of two or more files; a file in no cluster is unique among the reports."""

    clusters: tuple[FileCluster, ...]
    by_file: Mapping[FileRef, int]
    """File → index into ``clusters`` (files in no cluster are absent)."""
    files_total: int

    def cluster_of(self, ref: FileRef) -> FileCluster | None:
        index = self.by_file.get(ref)
        return None if index is None else self.clusters[index]

    @property
    def duplicate_files(self) -> int:
        """Files beyond the first of each cluster: what de-duplication saves."""
        return sum(c.size - 1 for c in self.clusters)


def _first_of_equal(
    values: NDArray[np.uint8], rows: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """For rows holding equal values (byte strings), edges from each row to the first of them;
    also returns, per row, the index of its distinct value."""
    width = values.shape[1]
    keys = np.ascontiguousarray(values).view(np.dtype((np.void, width))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return rows[first[inverse.ravel()]], inverse.ravel()


def cluster_files(
    reports: Sequence[IncomingReport], config: ClusterConfig | None = None
) -> Clustering:
    """Cluster every file of ``reports`` (see the module docstring for what links files)."""
    return cluster_columns(ReportColumns.build(reports), config)


def cluster_columns(columns: ReportColumns, config: ClusterConfig | None = None) -> Clustering:
    """:func:`cluster_files` over columns: digests grouped with numpy, PDQ by a self-join."""
    config = config or ClusterConfig()
    sources: list[NDArray[np.int64]] = []
    targets: list[NDArray[np.int64]] = []
    for digests, present in (
        (columns.md5, columns.has_md5),
        (columns.sha1, columns.has_sha1),
    ):
        rows = np.flatnonzero(present)
        if len(rows) > 1:
            first, _ = _first_of_equal(digests[rows], rows)
            sources.append(rows)
            targets.append(first)
    quality = columns.pdq_quality
    usable = columns.has_pdq & ((quality < 0) | (quality >= config.min_pdq_quality))
    rows = np.flatnonzero(usable) if config.use_pdq else np.zeros(0, dtype=np.int64)
    if len(rows) > 1:
        first, distinct = _first_of_equal(columns.pdq[rows], rows)
        sources.append(rows)
        targets.append(first)
        representative = np.zeros(int(distinct.max()) + 1, dtype=np.int64)
        representative[distinct] = first
        if len(representative) > 1:
            hashes = np.ascontiguousarray(columns.pdq[representative])
            workers = config.workers or min(8, os.cpu_count() or 1)
            a, b = pdq_pairs_within(hashes, config.pdq_threshold, workers=workers)
            sources.append(representative[a])
            targets.append(representative[b])
    empty = np.zeros(0, dtype=np.int64)
    labels = component_labels(
        columns.file_count,
        np.concatenate(sources) if sources else empty,
        np.concatenate(targets) if targets else empty,
    )
    return _clustering(columns, labels)


def _clustering(columns: ReportColumns, labels: NDArray[np.int64]) -> Clustering:
    """Clusters (components of two or more files), each sorted by file reference and numbered
    in the order of their first file, so equal input in any order gives equal clusters."""
    sizes = np.bincount(labels, minlength=len(labels)) if len(labels) else labels
    members = np.flatnonzero(sizes[labels] >= 2) if len(labels) else labels
    rank = columns.file_rank
    first = np.full(len(labels), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, labels[members], rank[members])
    order = members[np.lexsort((rank[members], first[labels[members]]))]
    clusters: list[FileCluster] = []
    by_file: dict[FileRef, int] = {}
    report_ids, file_ids, file_report = columns.report_ids, columns.file_ids, columns.file_report
    bounds = np.flatnonzero(np.diff(labels[order])) + 1
    for index, group in enumerate(np.split(order, bounds) if len(order) else []):
        files = tuple(
            (report_ids[r], file_ids[f])
            for f, r in zip(group.tolist(), file_report[group].tolist(), strict=True)
        )
        clusters.append(
            FileCluster(
                cluster_id=index + 1,
                files=files,
                reports=tuple(sorted({report for report, _ in files})),
            )
        )
        for ref in files:
            by_file[ref] = index
    return Clustering(clusters=tuple(clusters), by_file=by_file, files_total=columns.file_count)
