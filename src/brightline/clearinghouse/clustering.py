"""De-duplication: the same file across reports is one cluster.

Two files are *linked* when they share an md5 or a sha1, or when both have a usable PDQ hash
(quality unknown or at least ``min_pdq_quality``) within ``pdq_threshold`` bits of each other. A
cluster is a connected component of that graph (single linkage), found with a union-find.

**Chains.** Single linkage is transitive: if A is within the threshold of B and B of C, then A,
B and C are one cluster even when A and C are farther apart than the threshold (a re-encode of
a re-encode). That is the only way a cluster holds files farther apart than the threshold: every
member reaches every other through a chain of links, each an exact digest match or a PDQ
distance within the threshold. The tests check exactly this, and that no two linked files ever
end up in different clusters. Operators who want tighter clusters lower ``pdq_threshold``.

Near-duplicate search uses :class:`brightline.index.PDQIndex` (exact multi-index Hamming
search) over the distinct usable PDQ hashes, not pairwise comparison; queries run on a few
threads (the index's kernels release the GIL).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from brightline.clearinghouse._unionfind import UnionFind
from brightline.clearinghouse.model import FileRef, IncomingReport
from brightline.errors import InvalidInput
from brightline.index import DEFAULT_MAX_DISTANCE, PDQIndex, pdq_hex_to_array

__all__ = ["ClusterConfig", "Clustering", "FileCluster", "cluster_files"]

_QUERY_CHUNK = 4096


@dataclass(frozen=True, slots=True)
class ClusterConfig:
    pdq_threshold: int = DEFAULT_MAX_DISTANCE
    """Largest PDQ Hamming distance that links two files (DOMAIN.md §1: 31)."""
    min_pdq_quality: int = 50
    """PDQ hashes of known lower quality are only compared exactly (md5/sha1), never by PDQ."""
    use_pdq: bool = True
    workers: int = 0
    """Threads for the PDQ queries; 0 = one per CPU (at most 8)."""

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


def _pdq_pairs(hashes: NDArray[np.uint8], threshold: int, workers: int) -> list[list[int]]:
    """For each row, the rows within ``threshold`` (itself included)."""
    index = PDQIndex.build(hashes, np.arange(len(hashes), dtype=np.int64))
    chunks = [hashes[i : i + _QUERY_CHUNK] for i in range(0, len(hashes), _QUERY_CHUNK)]

    def query(chunk: NDArray[np.uint8]) -> list[list[int]]:
        return [[hit for hit, _ in hits] for hits in index.query_many(chunk, threshold)]

    if workers <= 1 or len(chunks) == 1:
        results = [query(c) for c in chunks]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(query, chunks))
    return [row for chunk in results for row in chunk]


def cluster_files(
    reports: Sequence[IncomingReport], config: ClusterConfig | None = None
) -> Clustering:
    """Cluster every file of ``reports`` (see the module docstring for what links files)."""
    config = config or ClusterConfig()
    refs: list[FileRef] = []
    by_digest: dict[str, int] = {}
    by_pdq: dict[str, int] = {}
    pdq_members: list[int] = []
    for report in reports:
        for file in report.files:
            refs.append((report.report_id, file.file_id))
    if len(set(refs)) != len(refs):
        raise InvalidInput("report ids must be unique (a report id appears twice)")
    uf = UnionFind(len(refs))
    position = 0
    pdq_texts: list[str] = []
    for report in reports:
        for file in report.files:
            for digest in (file.md5 and "m" + file.md5, file.sha1 and "s" + file.sha1):
                if digest:
                    first = by_digest.setdefault(digest, position)
                    if first != position:
                        uf.union(first, position)
            usable = file.pdq is not None and (
                file.pdq_quality is None or file.pdq_quality >= config.min_pdq_quality
            )
            if config.use_pdq and usable and file.pdq is not None:
                first = by_pdq.setdefault(file.pdq, len(pdq_texts))
                if first == len(pdq_texts):
                    pdq_texts.append(file.pdq)
                    pdq_members.append(position)
                else:
                    uf.union(pdq_members[first], position)
            position += 1
    if len(pdq_texts) > 1:
        workers = config.workers or min(8, os.cpu_count() or 1)
        neighbours = _pdq_pairs(pdq_hex_to_array(pdq_texts), config.pdq_threshold, workers)
        for i, row in enumerate(neighbours):
            for j in row:
                if j > i:
                    uf.union(pdq_members[i], pdq_members[j])
    return _clustering(refs, uf)


def _clustering(refs: Sequence[FileRef], uf: UnionFind) -> Clustering:
    groups = [sorted(refs[i] for i in members) for members in uf.components(min_size=2)]
    groups.sort(key=lambda files: files[0])
    clusters = []
    by_file: dict[FileRef, int] = {}
    for index, files in enumerate(groups):
        clusters.append(
            FileCluster(
                cluster_id=index + 1,
                files=tuple(files),
                reports=tuple(sorted({report for report, _ in files})),
            )
        )
        for ref in files:
            by_file[ref] = index
    return Clustering(clusters=tuple(clusters), by_file=by_file, files_total=len(refs))
