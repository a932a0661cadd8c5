"""The whole pipeline over a generated dataset, checked against its ground truth.

Planted offenders must be linked (precision ≥ 0.99 and recall ≥ 0.95 over same-person pairs,
the issue's bar), hubs and proxies must not link anyone, viral content must be bundled and
informational, and the urgent cases must come out on top.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from brightline.clearinghouse import (
    Analysis,
    HashSetLookup,
    InformationalReason,
    Novelty,
    Tier,
    analyse,
    demo_router,
)
from brightline.clearinghouse.synth import SynthConfig, SynthDataset, generate


@pytest.fixture(scope="module")
def dataset() -> SynthDataset:
    return generate(SynthConfig(reports=2500, seed=11, hub_share=0.03))


@pytest.fixture(scope="module")
def analysis(dataset: SynthDataset) -> Analysis:
    return analyse(
        dataset.reports,
        as_of=dataset.truth.as_of,
        lookup=HashSetLookup(md5=dataset.truth.known_md5),
        router=demo_router(),
    )


def test_planted_offenders_are_linked_precisely(dataset: SynthDataset, analysis: Analysis) -> None:
    truth = dataset.truth.same_person_pairs()
    predicted = set()
    for group in analysis.linking.groups:
        members = sorted(group.persons)
        predicted |= {(a, b) for i, a in enumerate(members) for b in members[i + 1 :]}
    true_positive = len(predicted & truth)
    assert true_positive / len(predicted) >= 0.99
    assert true_positive / len(truth) >= 0.95
    for reports in dataset.truth.offenders.values():
        groups = {analysis.linking.by_person.get((r, 0)) for r in reports}
        assert len(groups) == 1
        assert None not in groups
        group = analysis.linking.groups[groups.pop()]  # type: ignore[index]
        assert len(group.providers) >= 2
        assert group.evidence


def test_hubs_and_proxies_link_no_one(dataset: SynthDataset, analysis: Analysis) -> None:
    assert len(dataset.truth.hub_reports) == 60
    assert {h.report_count for h in analysis.linking.hubs} == {30}
    assert all((r, 0) not in analysis.linking.by_person for r in dataset.truth.hub_reports)
    assert dataset.truth.proxy_reports
    assert all((r, 0) not in analysis.linking.by_person for r in dataset.truth.proxy_reports)
    withheld = {r for item in analysis.linking.withheld for r in item.reports}
    assert withheld == set(dataset.truth.proxy_reports)


def test_viral_content_is_bundled_and_informational(
    dataset: SynthDataset, analysis: Analysis
) -> None:
    for reports in dataset.truth.viral.values():
        bundles = {analysis.bundling.bundle_of((r, "f1")) for r in reports}
        assert len(bundles) == 1  # variants (other bytes, PDQ a few bits away) included
        for r in reports:
            result = analysis.results[r]
            assert result.tier is Tier.INFORMATIONAL
            assert result.informational_reasons == (InformationalReason.BUNDLED,)
    viral = {r for reports in dataset.truth.viral.values() for r in reports}
    bundled = {r for b in analysis.bundling.bundles for r in b.reports}
    assert bundled == viral


def test_urgent_cases_come_out_on_top(dataset: SynthDataset, analysis: Analysis) -> None:
    ranked = analysis.ranked()
    urgent = set(dataset.truth.urgent)
    assert {r.report_id for r in ranked[: len(urgent)]} == urgent
    assert all(analysis.results[r].tier is Tier.IMMEDIATE for r in urgent)
    tiers = Counter(r.tier for r in ranked)
    assert tiers[Tier.IMMEDIATE] < len(ranked) / 10  # the top tier stays short
    for r in dataset.truth.enticement:
        assert analysis.results[r].actionable
        assert any(c.feature == "incident_type" for c in analysis.results[r].contributions)


def test_known_material_routing_and_explanations(dataset: SynthDataset, analysis: Analysis) -> None:
    assert analysis.known is not None
    counts = analysis.known.counts()
    assert counts[Novelty.KNOWN] > 0
    assert counts[Novelty.NEW] > 0
    assert set(analysis.routing) == set(analysis.results)
    assert all(decision.referrals for decision in analysis.routing.values())
    reasons = Counter(f.reason for d in analysis.routing.values() for f in d.referrals)
    assert set(reasons) == {"jurisdiction", "no agency for region", "location unknown"}
    for result in analysis.results.values():
        assert result.score == sum(c.points for c in result.contributions)
        assert result.config_version == "2026.1"
    assert set(analysis.timings) == {
        "known",
        "columns",
        "cluster",
        "link",
        "bundle",
        "features",
        "triage",
        "route",
    }


def test_recency_depends_on_the_triage_time(dataset: SynthDataset) -> None:
    later = analyse(dataset.reports[:200], as_of=dataset.truth.as_of + timedelta(days=400))
    assert all(c.feature != "recency" for r in later.results.values() for c in r.contributions)
    assert later.routing == {}
    assert later.known is None
