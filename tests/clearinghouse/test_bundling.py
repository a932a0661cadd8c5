"""Bundles: viral content by annotation, batched reports, or spread over unrelated users."""

from __future__ import annotations

from brightline.clearinghouse import (
    BundleConfig,
    BundleReason,
    FileAnnotation,
    cluster_files,
    find_bundles,
    link_reports,
)
from tests.clearinghouse.helpers import file, person, report


def test_annotations_and_batched_reports_make_bundles_of_their_clusters() -> None:
    viral = frozenset({FileAnnotation.VIRAL})
    reports = [
        report(1, files=(file("f1", seed="meme", annotations=viral),)),
        report(2, files=(file("f1", seed="meme"), file("f2", seed="own"))),
        report(
            3,
            files=(
                file("f1", seed="single", annotations=frozenset({FileAnnotation.POTENTIAL_MEME})),
            ),
        ),
        report(4, batched=True, files=(file("f1", seed="batched"),)),
        report(5, files=(file("f1", seed="plain"),)),
    ]
    clustering = cluster_files(reports)
    bundling = find_bundles(reports, clustering)
    summary = [(b.files, b.reasons, b.cluster_id) for b in bundling.bundles]
    assert summary == [
        ((("1", "f1"), ("2", "f1")), {BundleReason.VIRAL_ANNOTATION}, 1),
        ((("3", "f1"),), {BundleReason.MEME_ANNOTATION}, None),
        ((("4", "f1"),), {BundleReason.BATCHED_REPORT}, None),
    ]
    assert bundling.fully_bundled(reports[0])
    assert not bundling.fully_bundled(reports[1])  # its other file is its own
    assert not bundling.fully_bundled(reports[4])
    assert not bundling.fully_bundled(report(6))  # no files: not bundled
    assert bundling.bundle_of(("2", "f1")) == bundling.bundles[0]
    off = find_bundles(reports, clustering, config=BundleConfig(use_annotations=False))
    assert off.bundles == ()


def test_spread_counts_unrelated_users_once_per_linked_group() -> None:
    # Five reports share one file; three of them are one person (same email).
    reports = [
        report(
            i,
            persons=(person(emails=(f"user{min(i, 3)}@example.org",)),),
            files=(file("f1", seed="x"),),
        )
        for i in range(1, 6)
    ]
    clustering = cluster_files(reports)
    linking = link_reports(reports)
    config = BundleConfig(min_reports=5, min_unrelated_users=3)
    (bundle,) = find_bundles(reports, clustering, linking, config).bundles
    assert (bundle.reasons, bundle.unrelated_users) == ({BundleReason.SPREAD}, 3)
    stricter = BundleConfig(min_reports=5, min_unrelated_users=4)
    assert find_bundles(reports, clustering, linking, stricter).bundles == ()
    # Without linking every person counts.
    assert find_bundles(reports, clustering, None, stricter).bundles[0].unrelated_users == 5
    fewer = BundleConfig(min_reports=6, min_unrelated_users=2)
    assert find_bundles(reports, clustering, linking, fewer).bundles == ()
