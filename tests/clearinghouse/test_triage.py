"""Triage: explained scores, tiers, actionable vs informational, versioned weights and replay."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brightline.clearinghouse import (
    Classification,
    FileAnnotation,
    IncidentType,
    InformationalReason,
    ReportAnnotation,
    ReportFeatures,
    Tier,
    TriageConfig,
    Victim,
    default_triage_config,
    extract_features,
    load_triage_config,
    rank,
    replay,
    score_report,
)
from brightline.clearinghouse.triage import FEATURES, parse_triage_config
from brightline.errors import InvalidInput
from tests.clearinghouse.helpers import NOW, file, person, report

SHIPPED = Path(__file__).resolve().parents[2] / "src/brightline/clearinghouse/data/triage.toml"


def features(**changes: object) -> ReportFeatures:
    base = ReportFeatures(
        report_id="1",
        incident_type=IncidentType.CHILD_PORNOGRAPHY,
        escalation=False,
        infant=False,
        prepubescent=False,
        new_files=0,
        physical_harm=False,
        sadistic=False,
        sextortion=False,
        youngest_victim_age=None,
        parent_guardian=False,
        linked_reports=0,
        incident_age_days=100.0,
        has_files=True,
        fully_bundled=False,
        locatable=True,
        spam_only=False,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_the_shipped_configuration_loads_and_is_versioned() -> None:
    config = default_triage_config()
    assert config == load_triage_config() == load_triage_config(SHIPPED)
    assert config.version == "2026.1"
    assert set(config.weights) == set(FEATURES)
    assert config.immediate_at == config.weights["escalation"]  # an escalation alone: immediate


def test_every_point_is_explained() -> None:
    config = default_triage_config()
    result = score_report(
        features(
            escalation=True,
            infant=True,
            prepubescent=True,
            new_files=5,
            physical_harm=True,
            sadistic=True,
            sextortion=True,
            incident_type=IncidentType.ONLINE_ENTICEMENT,
            youngest_victim_age=3,
            parent_guardian=True,
            linked_reports=2,
            incident_age_days=0.5,
        ),
        config,
    )
    points = {c.feature: c.points for c in result.contributions}
    assert points == {
        "escalation": 100,
        "infant": 40,
        "prepubescent": 25,
        "new_material": 30,
        "physical_harm": 25,
        "sadistic": 25,
        "sextortion": 30,
        "incident_type": 30,
        "young_victim": 20,
        "parent_guardian": 30,
        "linked_reports": 20,
        "recency": 15,
    }
    assert result.score == sum(points.values())
    assert result.tier is Tier.IMMEDIATE
    assert result.actionable
    assert result.config_version == "2026.1"
    details = {c.feature: c.detail for c in result.contributions}
    assert details["new_material"] == "5 new files at 15 points each (capped at 2)"
    assert details["recency"] == "incident 0.5 days old (≤ 2)"
    assert details["incident_type"] == f"incident type: {IncidentType.ONLINE_ENTICEMENT}"


def test_tiers_follow_the_thresholds() -> None:
    config = default_triage_config()
    assert score_report(features(), config).tier is Tier.NORMAL
    assert score_report(features(prepubescent=True, infant=True), config).tier is Tier.HIGH
    assert score_report(features(escalation=True), config).tier is Tier.IMMEDIATE
    assert score_report(features(incident_age_days=1), config).score == 15
    assert score_report(features(incident_age_days=20), config).score == 3
    assert score_report(features(youngest_victim_age=13), config).score == 0


def test_informational_reports_and_what_overrides_them() -> None:
    config = default_triage_config()
    bundled = score_report(features(fully_bundled=True, prepubescent=True), config)
    assert bundled.tier is Tier.INFORMATIONAL
    assert bundled.informational_reasons == (InformationalReason.BUNDLED,)
    assert bundled.score == 25  # still scored, for ranking among informational reports
    assert not bundled.actionable
    escalated = score_report(features(fully_bundled=True, escalation=True), config)
    assert escalated.tier is Tier.IMMEDIATE
    assert escalated.overridden == (InformationalReason.BUNDLED,)
    sextortion = score_report(features(fully_bundled=True, sextortion=True), config)
    assert sextortion.actionable
    misleading = features(has_files=False, incident_type=IncidentType.MISLEADING_DOMAIN_NAME)
    assert score_report(misleading, config).informational_reasons == (
        InformationalReason.NO_EXPLOITATION_NEXUS,
    )
    assert not score_report(features(has_files=False, spam_only=True), config).actionable
    assert score_report(features(has_files=False), config).actionable  # a CP report, no files
    lost = score_report(features(locatable=False), config)
    assert lost.informational_reasons == (InformationalReason.NOTHING_TO_LOCATE,)


def test_features_come_from_the_report_and_the_earlier_stages() -> None:
    r = report(
        7,
        incident_at=NOW - timedelta(hours=12),
        escalation="Placeholder reason.",
        report_annotations=frozenset({ReportAnnotation.SPAM}),
        persons=(person(parent_guardian_account=True),),
        victims=(Victim(age=11), Victim(age=6), Victim()),
        files=(
            file(
                "f1",
                annotations=frozenset({FileAnnotation.INFANT}),
                classification=Classification.B1,
            ),
            file(
                "f2",
                annotations=frozenset({FileAnnotation.PHYSICAL_HARM}),
                classification=Classification.A2,
            ),
        ),
    )
    (f,) = extract_features([r], as_of=NOW)
    assert (f.escalation, f.infant, f.prepubescent, f.physical_harm) == (True, True, True, True)
    assert (f.youngest_victim_age, f.parent_guardian, f.spam_only) == (6, True, True)
    assert f.incident_age_days == pytest.approx(0.5)
    assert (f.new_files, f.linked_reports, f.fully_bundled) == (0, 0, False)
    assert not f.locatable  # a Parent/Guardian flag alone locates nobody
    (future,) = extract_features([replace(r, incident_at=NOW + timedelta(days=1))], as_of=NOW)
    assert future.incident_age_days == 0
    with pytest.raises(InvalidInput, match="timezone-aware"):
        extract_features([r], as_of=NOW.replace(tzinfo=None))


def test_rank_puts_the_most_urgent_first() -> None:
    config = default_triage_config()
    results = [
        score_report(features(report_id="a", fully_bundled=True, infant=True), config),
        score_report(features(report_id="b"), config),
        score_report(features(report_id="c", escalation=True), config),
        score_report(features(report_id="d", infant=True, prepubescent=True), config),
        score_report(features(report_id="e", infant=True, prepubescent=True), config),
    ]
    assert [r.report_id for r in rank(results)] == ["c", "d", "e", "b", "a"]


def shipped_text() -> str:
    return SHIPPED.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('version = "2026.1"', "", "version must be a string"),
        ("escalation = 100", "escalation = true", "escalation must be an integer"),
        ("escalation = 100", "escalation = 100\ncuteness = 3", "unknown feature 'cuteness'"),
        ("escalation = 100", "", "weights: missing escalation"),
        ("new_material = 2", "recency = 2", "'recency' is not a counted feature"),
        ("immediate = 100", "immediate = 10", "immediate must be at least high"),
        ('"Child Sex Tourism" = 30', '"Child Tourism" = 30', "not one of the schema's incident"),
        ("steps = [[2, 15], [14, 8], [60, 3]]", "steps = [[14, 8], [2, 15]]", "increasing order"),
        ('"young_victim"]', '"youth"]', "unknown feature 'youth'"),
        ("\n[victims]\n", "\n[victim]\n", "unknown key 'victim'"),
        ("[tiers]", "[tiers]\nlow = 1", "unknown key 'low'"),
        ("version =", "version = = ", "not valid TOML"),
    ],
)
def test_bad_configurations_are_refused(old: str, new: str, message: str) -> None:
    text = shipped_text()
    assert old in text
    with pytest.raises(InvalidInput, match=message):
        parse_triage_config(text.replace(old, new, 1), "operator.toml")


def test_replay_shows_which_reports_move_and_why() -> None:
    old = default_triage_config()
    new = parse_triage_config(
        shipped_text()
        .replace('version = "2026.1"', 'version = "2026.2"')
        .replace("infant = 40", "infant = 60")
        .replace("parent_guardian = 30", "parent_guardian = 0"),
        "new.toml",
    )
    reports = [
        features(report_id="up", infant=True),  # 40 → 60: normal → high
        features(report_id="down", parent_guardian=True, prepubescent=True),  # 55 → 25
        features(report_id="same-tier", infant=True, escalation=True),  # score only
        features(report_id="still", prepubescent=True),
    ]
    result = replay(reports, old, new)
    assert (result.old_version, result.new_version) == ("2026.1", "2026.2")
    assert [(m.report_id, m.old_tier, m.new_tier) for m in result.moves] == [
        ("up", Tier.NORMAL, Tier.HIGH),
        ("down", Tier.HIGH, Tier.NORMAL),
    ]
    up = result.moves[0]
    assert (up.old_score, up.new_score) == (40, 60)
    assert [(c.feature, c.old_points, c.new_points) for c in up.changes] == [("infant", 40, 60)]
    assert [(c.feature, c.old_points, c.new_points) for c in result.moves[1].changes] == [
        ("parent_guardian", 30, 0)
    ]
    assert result.score_changed == 3
    assert result.transitions[(Tier.IMMEDIATE, Tier.IMMEDIATE)] == 1
    assert sum(result.transitions.values()) == 4


report_features = st.builds(
    ReportFeatures,
    report_id=st.text(min_size=1, max_size=4),
    incident_type=st.sampled_from(IncidentType),
    escalation=st.booleans(),
    infant=st.booleans(),
    prepubescent=st.booleans(),
    new_files=st.integers(0, 10),
    physical_harm=st.booleans(),
    sadistic=st.booleans(),
    sextortion=st.booleans(),
    youngest_victim_age=st.none() | st.integers(0, 17),
    parent_guardian=st.booleans(),
    linked_reports=st.integers(0, 10),
    incident_age_days=st.floats(0, 400),
    has_files=st.booleans(),
    fully_bundled=st.booleans(),
    locatable=st.booleans(),
    spam_only=st.booleans(),
)
weights = st.fixed_dictionaries({name: st.integers(-50, 200) for name in FEATURES})


@st.composite
def configs(draw: st.DrawFn) -> TriageConfig:
    high = draw(st.integers(0, 200))
    return replace(
        default_triage_config(),
        version=draw(st.text(min_size=1, max_size=5).filter(str.strip)),
        weights=draw(weights),
        caps={"new_material": draw(st.integers(1, 5)), "linked_reports": draw(st.integers(1, 5))},
        incident_types={
            t: draw(st.integers(0, 50)) for t in draw(st.sets(st.sampled_from(IncidentType)))
        },
        high_at=high,
        immediate_at=high + draw(st.integers(0, 200)),
    )


@settings(max_examples=200, deadline=None)
@given(report_features, configs())
def test_contributions_always_sum_to_the_score(f: ReportFeatures, config: TriageConfig) -> None:
    result = score_report(f, config)
    assert result.score == sum(c.points for c in result.contributions)
    assert all(c.points != 0 for c in result.contributions)
    assert result.actionable == (result.tier is not Tier.INFORMATIONAL)
    assert result.config_version == config.version


@settings(max_examples=100, deadline=None)
@given(st.lists(report_features, max_size=20), configs())
def test_replay_with_the_same_configuration_moves_nothing(
    reports: list[ReportFeatures], config: TriageConfig
) -> None:
    result = replay(reports, config, config)
    assert result.moves == ()
    assert result.score_changed == 0
    assert all(old == new for old, new in result.transitions)
