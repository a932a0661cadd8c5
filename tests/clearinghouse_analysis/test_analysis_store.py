"""Finished intake reports analysed, stored, ranked and routed; feedback; idempotent re-runs."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from brightline.clearinghouse.analysis_models import AnalysisResult, Referral
from brightline.clearinghouse.analysis_store import (
    analyse_intake,
    analysis_queue,
    record_feedback,
    report_analysis,
)
from brightline.clearinghouse.known import HashSetLookup
from brightline.clearinghouse.routing import demo_router
from brightline.errors import InvalidInput, NotFound
from tests.clearinghouse_analysis.conftest import AS_OF, SHARED_EMAIL, Planted


def _analyse(sessions: sessionmaker[Session], **kwargs: object) -> None:
    with sessions.begin() as session:
        analyse_intake(session=session, as_of=AS_OF, router=demo_router(), **kwargs)  # type: ignore[arg-type]


def test_finished_reports_are_analysed_and_stored(
    sessions: sessionmaker[Session], planted: Planted
) -> None:
    with sessions.begin() as session:
        run = analyse_intake(session=session, as_of=AS_OF, router=demo_router())
    assert run.reports == 4
    assert run.unreadable == ()
    assert sum(run.tiers.values()) == 4
    assert run.tiers["immediate"] == 1
    with sessions.begin() as session:
        stored = {r.report_id: r for r in session.scalars(select(AnalysisResult))}
        assert set(stored) == planted.finished  # the unfinished report is not analysed
        for result in stored.values():
            contributions = json.loads(result.contributions)
            assert sum(c["points"] for c in contributions) == result.score
            assert all(c["detail"] for c in contributions)
            assert result.weights_version == run.weights_version != ""
        ordinary = report_analysis(session=session, report_id=planted.ordinary)
        assert [f["md5"] for f in ordinary.files] == planted.file_md5[planted.ordinary]
        assert {f["novelty"] for f in ordinary.files} == {"unchecked"}  # no banks given
        informational = stored[planted.informational]
        assert informational.tier == "informational"
        assert informational.informational
        assert "no_exploitation_nexus" in json.loads(informational.informational_reasons)


def test_the_urgent_report_ranks_first(sessions: sessionmaker[Session], planted: Planted) -> None:
    _analyse(sessions)
    with sessions.begin() as session:
        queue = analysis_queue(session=session)
    assert queue[0].report_id == planted.urgent
    assert queue[0].tier == "immediate"
    assert any("escalated" in reason for reason in queue[0].top_reasons)
    assert queue[-1].report_id == planted.informational
    order = [(row.tier, -row.score) for row in queue]
    ranks = {"immediate": 0, "high": 1, "normal": 2, "informational": 3}
    assert order == sorted(order, key=lambda t: (ranks[t[0]], t[1]))


def test_linked_reports_keep_the_evidence(
    sessions: sessionmaker[Session], planted: Planted
) -> None:
    _analyse(sessions)
    with sessions.begin() as session:
        urgent = report_analysis(session=session, report_id=planted.urgent)
        linked = report_analysis(session=session, report_id=planted.linked)
        ordinary = report_analysis(session=session, report_id=planted.ordinary)
    assert urgent.result.linked_group_id is not None
    assert urgent.result.linked_group_id == linked.result.linked_group_id
    (group,) = urgent.links
    assert set(group["reports"]) == {planted.urgent, planted.linked}
    assert set(group["providers"]) == {"esp-one", "esp-two"}
    (evidence,) = group["evidence"]
    assert evidence["kind"] == "email"
    assert evidence["value"] == SHARED_EMAIL
    assert ordinary.links == ()
    assert ordinary.result.linked_group_id is None


def test_referrals_are_routed_per_agency(sessions: sessionmaker[Session], planted: Planted) -> None:
    _analyse(sessions)
    with sessions.begin() as session:
        routed = {(r.report_id, r.agency_id): r for r in session.scalars(select(Referral))}
        west = analysis_queue(session=session, agency="example-icac-west")
    assert (planted.urgent, "example-icac-west") in routed
    assert (planted.linked, "example-agency-gb") in routed
    assert (planted.ordinary, "example-icac-south") in routed
    assert (planted.informational, "national-queue") in routed
    assert {r.status for r in routed.values()} == {"new"}
    assert json.loads(routed[(planted.urgent, "example-icac-west")].regions) == ["US-CA"]
    assert [row.report_id for row in west] == [planted.urgent]


def test_reanalysis_replaces_results_and_keeps_feedback(
    sessions: sessionmaker[Session], planted: Planted
) -> None:
    _analyse(sessions)
    with sessions.begin() as session:
        first = {r.report_id: (r.score, r.tier) for r in session.scalars(select(AnalysisResult))}
        referral_ids = set(session.scalars(select(Referral.id)))
        referral = session.scalars(
            select(Referral).where(Referral.report_id == planted.urgent)
        ).one()
        record_feedback(
            session=session,
            referral_id=referral.id,
            status="under_investigation",
            reason=None,
            actor="agent-1",
        )
    _analyse(sessions)
    with sessions.begin() as session:
        again = {r.report_id: (r.score, r.tier) for r in session.scalars(select(AnalysisResult))}
        assert again == first
        assert set(session.scalars(select(Referral.id))) == referral_ids
        assert session.scalar(select(func.count()).select_from(AnalysisResult)) == 4
        kept = session.get(Referral, referral.id)
        assert kept is not None
        assert (kept.status, kept.feedback_by) == ("under_investigation", "agent-1")


def test_known_material_and_new_weights_are_stored(
    sessions: sessionmaker[Session], planted: Planted
) -> None:
    known_md5 = planted.file_md5[planted.ordinary][0]
    _analyse(sessions, lookup=HashSetLookup(md5=[known_md5]))
    with sessions.begin() as session:
        ordinary = report_analysis(session=session, report_id=planted.ordinary)
        urgent = report_analysis(session=session, report_id=planted.urgent)
    assert [f["novelty"] for f in ordinary.files] == ["known"]
    assert [f["novelty"] for f in urgent.files] == ["new"]
    assert any(c["feature"] == "new_material" for c in urgent.contributions)
    assert not any(c["feature"] == "new_material" for c in ordinary.contributions)


def test_feedback_is_recorded_and_bad_feedback_refused(
    sessions: sessionmaker[Session], planted: Planted
) -> None:
    _analyse(sessions)
    with sessions.begin() as session:
        referral_id = session.scalars(
            select(Referral.id).where(Referral.report_id == planted.ordinary)
        ).one()
    bad = [
        ("closed", None, "needs a closing reason"),
        ("arrest", "unable_to_locate", "only for a closed referral"),
        ("solved", None, "unknown referral status"),
        ("closed", "bored", "unknown closing reason"),
    ]
    for status, reason, message in bad:
        with sessions.begin() as session, pytest.raises(InvalidInput, match=message):
            record_feedback(
                session=session,
                referral_id=referral_id,
                status=status,
                reason=reason,
                actor="agent-1",
            )
    with sessions.begin() as session, pytest.raises(NotFound):
        record_feedback(session=session, referral_id=10**9, status="new", reason=None, actor="a")
    with sessions.begin() as session:
        done = record_feedback(
            session=session,
            referral_id=referral_id,
            status="Closed",
            reason="provider-response-lacked-information",
            actor="agent-2",
        )
        assert done.feedback_at is not None
    with sessions.begin() as session:
        stored = session.get(Referral, referral_id)
        assert stored is not None
        assert (stored.status, stored.closing_reason, stored.feedback_by) == (
            "closed",
            "provider_response_lacked_information",
            "agent-2",
        )


def test_queue_limit_is_checked(sessions: sessionmaker[Session], planted: Planted) -> None:
    _analyse(sessions)
    with sessions.begin() as session:
        assert len(analysis_queue(session=session, limit=2)) == 2
        with pytest.raises(InvalidInput):
            analysis_queue(session=session, limit=0)
        with pytest.raises(NotFound):
            report_analysis(session=session, report_id=planted.unfinished)
