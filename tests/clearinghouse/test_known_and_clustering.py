"""Known/new marking, and clusters of the same file: exact digests or PDQ within a threshold."""

from __future__ import annotations

import random
from itertools import combinations

from hypothesis import given, settings
from hypothesis import strategies as st

from brightline.clearinghouse import (
    ClusterConfig,
    HashSetLookup,
    IncomingReport,
    Novelty,
    ReportedFile,
    cluster_files,
    mark_known,
)
from tests.clearinghouse.helpers import digests, file, flip, pdq_of, report


def test_files_are_known_new_or_unchecked() -> None:
    known_pdq = pdq_of("series")
    reports = [
        report(1, files=(file("f1", seed="known"), file("f2", seed="fresh"))),
        report(2, files=(ReportedFile("f1", pdq=flip(known_pdq, [1, 2, 3])), ReportedFile("f2"))),
        report(3, files=(ReportedFile("f1", sha1=digests("known2")["sha1"]),)),
    ]
    calls: list[ReportedFile] = []
    bank = HashSetLookup(
        md5=[digests("known")["md5"]], sha1=[digests("known2")["sha1"]], pdq=[known_pdq]
    )

    def lookup(f: ReportedFile) -> bool:
        calls.append(f)
        return bank(f)

    status = mark_known([*reports, report(4, files=(file("f1", seed="known"),))], lookup)
    assert status.of(("1", "f1")) is Novelty.KNOWN
    assert status.of(("1", "f2")) is Novelty.NEW
    assert status.of(("2", "f1")) is Novelty.KNOWN  # PDQ within the bank's threshold
    assert status.of(("2", "f2")) is Novelty.UNCHECKED  # no hash: never claimed new
    assert status.of(("3", "f1")) is Novelty.KNOWN
    assert status.new_files(reports[0]) == 1
    assert status.counts() == {Novelty.KNOWN: 4, Novelty.NEW: 1, Novelty.UNCHECKED: 1}
    assert len(calls) == 4  # one question per distinct set of hashes
    assert not HashSetLookup()(file())


def test_exact_and_near_duplicates_cluster_across_reports() -> None:
    base = pdq_of("meme")
    reports = [
        report(1, files=(file("a", seed="x"), file("b", seed="solo"))),
        report(2, files=(file("a", seed="x"),)),  # same bytes
        report(3, files=(ReportedFile("a", sha1=digests("x")["sha1"]),)),  # sha1 only
        report(4, files=(ReportedFile("a", pdq=base),)),
        report(5, files=(ReportedFile("a", pdq=flip(base, list(range(20)))),)),  # 20 bits away
        report(6, files=(ReportedFile("a", pdq=flip(base, list(range(40)))),)),  # 40 bits away
        report(7, files=(ReportedFile("a", pdq=base, pdq_quality=10),)),  # too low quality
    ]
    clustering = cluster_files(reports, ClusterConfig(workers=2))
    assert [c.files for c in clustering.clusters] == [
        (("1", "a"), ("2", "a"), ("3", "a")),
        (("4", "a"), ("5", "a"), ("6", "a")),  # 6 joins through 5: a chain (20 + 20 bits)
    ]
    assert clustering.clusters[0].reports == ("1", "2", "3")
    assert clustering.cluster_of(("1", "b")) is None
    assert clustering.cluster_of(("7", "a")) is None
    assert clustering.duplicate_files == 4
    assert clustering.files_total == 8
    tight = cluster_files(reports, ClusterConfig(pdq_threshold=10))
    assert [c.files for c in tight.clusters] == [(("1", "a"), ("2", "a"), ("3", "a"))]
    no_pdq = cluster_files(reports, ClusterConfig(use_pdq=False))
    assert len(no_pdq.clusters) == 1


def distance(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def brute_force(
    reports: list[IncomingReport], config: ClusterConfig
) -> set[frozenset[tuple[str, str]]]:
    """Components of the link graph, computed pairwise: the reference for the fast path."""
    files = [(r.report_id, f) for r in reports for f in r.files]
    parent = list(range(len(files)))

    def find(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    def usable(f: ReportedFile) -> bool:
        return f.pdq is not None and (
            f.pdq_quality is None or f.pdq_quality >= config.min_pdq_quality
        )

    for i, j in combinations(range(len(files)), 2):
        a, b = files[i][1], files[j][1]
        linked = (a.md5 is not None and a.md5 == b.md5) or (a.sha1 is not None and a.sha1 == b.sha1)
        if usable(a) and usable(b) and a.pdq and b.pdq:
            linked = linked or distance(a.pdq, b.pdq) <= config.pdq_threshold
        if linked:
            parent[find(i)] = find(j)
    groups: dict[int, set[tuple[str, str]]] = {}
    for i, (report_id, f) in enumerate(files):
        groups.setdefault(find(i), set()).add((report_id, f.file_id))
    return {frozenset(g) for g in groups.values() if len(g) > 1}


@st.composite
def file_sets(draw: st.DrawFn) -> list[IncomingReport]:
    rng = random.Random(draw(st.integers(0, 2**32)))
    bases = [pdq_of(i) for i in range(draw(st.integers(1, 4)))]
    reports = []
    for r in range(draw(st.integers(1, 12))):
        files = []
        for n in range(draw(st.integers(1, 3))):
            kind = draw(st.sampled_from(["near", "exact", "both", "none"]))
            seed = draw(st.integers(0, 5))
            pdq = flip(rng.choice(bases), rng.sample(range(256), draw(st.integers(0, 40))))
            fields: dict[str, object] = {}
            if kind in ("exact", "both"):
                fields.update(digests(seed))
            if kind in ("near", "both"):
                fields.update(pdq=pdq, pdq_quality=draw(st.none() | st.integers(0, 100)))
            files.append(ReportedFile(f"f{n}", **fields))  # type: ignore[arg-type]
        reports.append(report(r + 1, files=tuple(files)))
    return reports


@settings(max_examples=60, deadline=None)
@given(file_sets(), st.integers(0, 40), st.randoms(use_true_random=False))
def test_clusters_are_exactly_the_components_of_the_link_graph(
    reports: list[IncomingReport], threshold: int, shuffler: random.Random
) -> None:
    """No two linked files are ever apart, and files farther apart than the threshold are
    together only through a chain of links (a component of the graph), whatever the order."""
    config = ClusterConfig(pdq_threshold=threshold, workers=1)
    clustering = cluster_files(reports, config)
    assert {frozenset(c.files) for c in clustering.clusters} == brute_force(reports, config)
    shuffled = list(reports)
    shuffler.shuffle(shuffled)
    assert cluster_files(shuffled, config) == clustering
