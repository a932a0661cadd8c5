"""The dashboard's aggregation: on a generated dataset (checked against the analysis itself),
on hand-made facts (percentiles, days, scope, CSV) and as properties of any facts."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brightline.clearinghouse import Analysis, HashSetLookup, analyse, demo_router
from brightline.clearinghouse.dashboard import (
    MAX_DAYS,
    Dashboard,
    DashboardCache,
    ReportFacts,
    build_dashboard,
    describe_duration,
    facts_from_analysis,
    summarise,
    write_dashboard_csv,
)
from brightline.clearinghouse.synth import SynthConfig, SynthDataset, generate

T0 = datetime(2026, 11, 1, tzinfo=UTC)
WEST = "example-icac-west"


@pytest.fixture(scope="module")
def dataset() -> SynthDataset:
    return generate(SynthConfig(reports=600, seed=5))


@pytest.fixture(scope="module")
def analysis(dataset: SynthDataset) -> Analysis:
    return analyse(
        dataset.reports,
        as_of=dataset.truth.as_of,
        lookup=HashSetLookup(md5=dataset.truth.known_md5),
        router=demo_router(),
    )


def test_generated_data_adds_up(dataset: SynthDataset, analysis: Analysis) -> None:
    routed = dataset.truth.as_of
    board = build_dashboard(facts_from_analysis(analysis, routed_at=routed))
    assert board.reports == len(dataset.reports)
    assert sum(n for _, n in board.per_tier) == board.reports
    assert sum(n for _, n in board.per_provider) == board.reports
    assert sum(n for _, n in board.per_day) == board.reports
    assert board.days_cut == 0
    days = [day for day, _ in board.per_day]
    assert days == [days[0] + timedelta(days=n) for n in range(len(days))]  # no gaps
    referrals = sum(len({r.agency_id for r in d.referrals}) for d in analysis.routing.values())
    assert sum(n for _, n in board.per_agency) == referrals
    assert board.files == analysis.clustering.files_total
    assert board.files_duplicated == sum(c.size for c in analysis.clustering.clusters)
    counts = analysis.known.counts() if analysis.known else {}
    assert (board.files_known, board.files_new) == (counts["known"], counts["new"])  # type: ignore[index]
    assert board.new_share is not None
    assert 0 < board.new_share < 1
    viral = {r for reports in dataset.truth.viral.values() for r in reports}
    assert board.bundled_reports >= len(viral)  # every viral re-share is bundled
    assert board.bundle_rate is not None
    assert board.duplicate_rate is not None
    assert 0 < board.duplicate_rate < 1
    assert board.incident_to_report.count + board.incident_missing == board.reports
    summary = board.incident_to_report
    assert summary.median is not None
    assert summary.p90 is not None
    assert timedelta(0) <= summary.median <= summary.p90
    assert board.report_to_referral.count == referrals


def test_scope_counts_only_those_agencies(analysis: Analysis) -> None:
    facts = facts_from_analysis(analysis, routed_at=T0 + timedelta(days=60))
    board = build_dashboard(facts, scope=[WEST])
    west = [f for f in facts if any(agency == WEST for agency, _ in f.referrals)]
    assert board.reports == len(west) > 0
    assert board.per_agency == ((WEST, len(west)),)
    assert board.scope == (WEST,)
    assert build_dashboard(facts, scope=[]).reports == 0


def _facts(
    report_id: str, received: datetime, incident: datetime | None, **kwargs: object
) -> ReportFacts:
    base: dict[str, object] = {
        "report_id": report_id,
        "provider": "esp-one",
        "received_at": received,
        "incident_at": incident,
        "tier": "normal",
        "bundled": False,
    }
    base.update(kwargs)
    return ReportFacts(**base)  # type: ignore[arg-type]


def test_hand_made_figures() -> None:
    received = [T0 + timedelta(days=2 * (n % 2)) for n in range(10)]
    facts = [_facts(str(n), at, at - timedelta(hours=n + 1)) for n, at in enumerate(received)] + [
        _facts("late", T0, T0 + timedelta(hours=1), tier="immediate", bundled=True),
        _facts("none", T0, None, provider="=esp-two", files_new=1, files_duplicated=1),
        _facts("routed", T0, None, referrals=((WEST, T0 + timedelta(hours=5)), ("x", None))),
    ]
    board = build_dashboard(facts)
    # 1..10 hours: nearest-rank median is the 5th, the 90th percentile the 9th.
    assert board.incident_to_report.count == 10
    assert board.incident_to_report.median == timedelta(hours=5)
    assert board.incident_to_report.p90 == timedelta(hours=9)
    assert board.incident_missing == 3  # no incident time, or an incident after receipt
    assert board.per_day == ((T0.date(), 8), (date(2026, 11, 2), 0), (date(2026, 11, 3), 5))
    assert board.per_tier[:2] == (("immediate", 1), ("high", 0))
    assert board.report_to_referral.median == timedelta(hours=5)
    assert board.per_agency == ((WEST, 1), ("x", 1))
    assert board.bundled_reports == 1
    assert board.new_share == 1.0
    assert board.duplicate_rate == 1.0
    assert describe_duration(board.incident_to_report.p90) == "9h 0m"
    assert describe_duration(timedelta(days=2, hours=3, minutes=4)) == "2d 3h"
    assert describe_duration(None) == "-"

    out = io.StringIO()
    rows = write_dashboard_csv(board, out)
    table = list(csv.reader(io.StringIO(out.getvalue())))
    assert table[0] == ["section", "key", "value"]
    assert len(table) == rows + 1
    assert ["provider", "'=esp-two", "1"] in table  # never a spreadsheet formula
    assert ["incident_to_report", "median_hours", "5.00"] in table
    assert ["rate", "new_share", "1.0000"] in table


def test_empty_and_long_ranges() -> None:
    empty = build_dashboard([])
    assert (empty.reports, empty.per_day, empty.new_share, empty.bundle_rate) == (0, (), None, None)
    assert empty.incident_to_report == summarise([])
    long = build_dashboard(
        [_facts("a", T0, None), _facts("b", T0 + timedelta(days=MAX_DAYS + 9), None)]
    )
    assert len(long.per_day) == MAX_DAYS
    assert long.days_cut == 10
    assert long.per_day[-1][1] == 1


moments = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2026, 3, 1), timezones=st.just(UTC)
)
facts_strategy = st.builds(
    _facts,
    st.text("abc", min_size=1, max_size=3),
    moments,
    st.none() | moments,
    tier=st.sampled_from(["immediate", "high", "normal", "informational"]),
    bundled=st.booleans(),
    files_known=st.integers(0, 3),
    files_new=st.integers(0, 3),
    referrals=st.lists(st.tuples(st.sampled_from(["a", "b"]), st.none() | moments), max_size=2).map(
        tuple
    ),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(facts_strategy, max_size=30), st.none() | st.lists(st.sampled_from(["a", "b"])))
def test_figures_always_add_up(facts: list[ReportFacts], scope: list[str] | None) -> None:
    board = build_dashboard(facts, scope=scope)
    assert sum(n for _, n in board.per_tier) == board.reports
    assert sum(n for _, n in board.per_provider) == board.reports
    assert sum(n for _, n in board.per_day) == board.reports  # two months: nothing cut
    assert board.incident_to_report.count + board.incident_missing == board.reports
    for summary in (board.incident_to_report, board.report_to_referral):
        if summary.count:
            assert summary.median is not None
            assert summary.p90 is not None
            assert timedelta(0) <= summary.median <= summary.p90
    if scope is not None:
        assert {agency for agency, _ in board.per_agency} <= set(scope)
    assert board.reports == build_dashboard(list(reversed(facts)), scope=scope).reports


def test_cache_builds_once_per_run_and_scope() -> None:
    built: list[tuple[str, ...] | None] = []

    def build(scope: tuple[str, ...] | None) -> Dashboard:
        built.append(scope)
        return build_dashboard([], scope=scope)

    cache = DashboardCache(max_scopes=2)
    west, south = ("west",), ("south",)
    first = cache.get(7, None, lambda: build(None))
    assert cache.get(7, None, lambda: build(None)) is first
    cache.get(7, ["west"], lambda: build(west))
    cache.get(7, ["west"], lambda: build(west))
    assert built == [None, west]
    cache.get(7, ["south"], lambda: build(south))  # evicts the least recently used: every agency
    cache.get(7, None, lambda: build(None))
    assert built == [None, west, south, None]
    cache.get(8, ["west"], lambda: build(west))  # a new run: everything is rebuilt
    cache.get(None, None, lambda: build(None))  # no run yet: never kept
    cache.get(None, None, lambda: build(None))
    assert built == [None, west, south, None, west, None, None]
