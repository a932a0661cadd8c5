"""The column-wise core: array scoring agrees with the explained score, array components agree
with the union-find, streamed synthetic data equals the generated, columns keep IP times exactly,
and new/known over columns agrees with ``mark_known``."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta, timezone

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brightline.clearinghouse import (
    HashSetLookup,
    IncidentType,
    IpEvent,
    Novelty,
    ReportFeatures,
    TriageConfig,
    link_reports,
    mark_known,
    rank,
    score_report,
)
from brightline.clearinghouse._unionfind import UnionFind, component_labels
from brightline.clearinghouse.columns import ColumnsBuilder, ReportColumns, new_files
from brightline.clearinghouse.linking import link_columns
from brightline.clearinghouse.synth import SynthConfig, generate, stream
from brightline.clearinghouse.triage import (
    FEATURES,
    INCIDENT_TYPE,
    RECENCY,
    FeatureColumns,
    score_columns,
)
from brightline.errors import InvalidInput
from tests.clearinghouse.helpers import NOW, file, person, report
from tests.clearinghouse.test_triage import configs, report_features


@st.composite
def full_configs(draw: st.DrawFn) -> TriageConfig:
    """Any weights, plus what the scoring rules branch on: overrides, recency steps, the
    informational incident types and the young-victim age."""
    base = draw(configs())
    days = sorted(draw(st.lists(st.integers(0, 120), max_size=4, unique=True)))
    return replace(
        base,
        recency_steps=tuple((float(d), draw(st.integers(-20, 40))) for d in days),
        overrides=frozenset(draw(st.sets(st.sampled_from((*FEATURES, INCIDENT_TYPE, RECENCY))))),
        informational_incident_types=frozenset(draw(st.sets(st.sampled_from(IncidentType)))),
        young_victim_age=draw(st.integers(0, 17)),
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(report_features, max_size=12), full_configs())
def test_array_scores_agree_with_explained_scores(
    drawn: list[ReportFeatures], config: TriageConfig
) -> None:
    reports = [replace(f, report_id=f"{i:03d}") for i, f in enumerate(drawn)]
    columns = FeatureColumns.from_features(reports)
    assert columns.to_list() == reports
    scores = score_columns(columns, config)
    results = [score_report(f, config) for f in reports]
    for i, result in enumerate(results):
        assert int(scores.score[i]) == result.score
        assert scores.tier_of(i) is result.tier
        assert scores.result(i) == result
    ranked = [reports[i].report_id for i in scores.ranked().tolist()]
    assert ranked == [r.report_id for r in rank(results)]


@settings(max_examples=80, deadline=None)
@given(
    st.integers(1, 30).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=40),
        )
    )
)
def test_array_components_are_the_union_find_components(
    graph: tuple[int, list[tuple[int, int]]],
) -> None:
    n, edges = graph
    uf = UnionFind(n)
    for a, b in edges:
        uf.union(a, b)
    labels = component_labels(
        n,
        np.asarray([a for a, _ in edges], dtype=np.int64),
        np.asarray([b for _, b in edges], dtype=np.int64),
    )
    expected = sorted(sorted(c) for c in uf.components())
    found: dict[int, list[int]] = {}
    for node, label in enumerate(labels.tolist()):
        found.setdefault(label, []).append(node)
        assert label == min(found[label])
    assert sorted(found.values()) == expected


def test_streamed_reports_are_the_generated_ones() -> None:
    config = SynthConfig(reports=300, seed=4, hub_share=0.1)
    streamed: list[object] = []
    truth = stream(config, streamed.append)
    dataset = generate(config)
    assert tuple(streamed) == dataset.reports
    assert truth == dataset.truth


def test_ip_times_keep_their_instant_and_offset() -> None:
    east = timezone(timedelta(hours=5, minutes=30))
    at = (NOW - timedelta(hours=1)).astimezone(east) + timedelta(microseconds=7)
    address = "2001:db8:5::1"
    reports = [
        report(
            1,
            persons=(person(esp_identifier="a", ip_events=(IpEvent(address, at=at),)),),
        ),
        report(
            2,
            provider="provider-02",
            persons=(
                person(
                    esp_identifier="b",
                    ip_events=(IpEvent(address, at=at + timedelta(minutes=5)),),
                ),
            ),
        ),
    ]
    (group,) = link_reports(reports).groups
    (evidence,) = group.evidence
    assert evidence.first_at == at
    assert evidence.first_at is not None
    assert evidence.first_at.utcoffset() == timedelta(hours=5, minutes=30)
    assert evidence.last_at == at + timedelta(minutes=5)


def test_new_files_over_columns_agree_with_mark_known() -> None:
    dataset = generate(SynthConfig(reports=400, seed=9))
    extra = report(
        "999999999",
        files=(file("f1", md5=None, sha1=None), file("f2", seed="unbanked")),
    )
    reports = (*dataset.reports, extra)
    lookup = HashSetLookup(md5=dataset.truth.known_md5)
    known = mark_known(reports, lookup)
    columns = ColumnsBuilder().add_all(reports).finish()
    flags = new_files(columns, lookup)
    for row in range(columns.file_count):
        assert bool(flags[row]) == (known.of(columns.file_ref(row)) is Novelty.NEW)
    assert flags.any()
    assert not flags.all()


def test_columns_without_identifiers_are_refused_for_linking() -> None:
    columns = ReportColumns.build([report(1)], identifiers=False)
    with pytest.raises(InvalidInput, match="identifiers"):
        link_columns(columns)
