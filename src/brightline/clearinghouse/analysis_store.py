"""The intake joined to the analysis core: finished reports analysed, results stored, queued.

:func:`analyse_intake` reads every finished intake report (its validated ``<report>`` and its
files' ``<fileDetails>``) through the same reader as any CyberTipline document
(:func:`~brightline.clearinghouse.cybertip_xml.parse_report_xml`), runs
:func:`~brightline.clearinghouse.pipeline.analyse` over all of them at once (linking and
bundling only mean something across reports), and stores one :class:`AnalysisResult` and one
:class:`Referral` per routed agency for each. Re-running replaces results and routing, so the
stored analysis is always one run's; agency feedback on a referral survives it. Each run is
recorded (:class:`AnalysisRunRecord`) with the results it wrote, and :func:`analysis_due` tells a
schedule whether any report finished since. Reads take an optional ``scope`` (an investigator's
agencies, :mod:`.investigators`); :func:`dashboard_facts` feeds :mod:`.dashboard`.

Plain functions with a keyword-only ``session``; none commits (the caller's transaction does,
so an analysis is stored whole or not at all). Logs carry ids and counts only.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from brightline.clearinghouse.analysis_models import (
    AnalysisResult,
    AnalysisRunRecord,
    ClosingReason,
    Referral,
    ReferralStatus,
    RunTrigger,
)
from brightline.clearinghouse.cybertip_xml import parse_report_xml
from brightline.clearinghouse.dashboard import ReportFacts
from brightline.clearinghouse.known import KnownMaterialLookup, Novelty
from brightline.clearinghouse.linking import LinkedGroup
from brightline.clearinghouse.model import IncomingReport
from brightline.clearinghouse.models import IntakeFile, IntakeProvider, IntakeReport, IntakeStatus
from brightline.clearinghouse.pipeline import Analysis, analyse
from brightline.clearinghouse.routing import Router
from brightline.clearinghouse.triage import Replay, Tier, TriageConfig, replay
from brightline.errors import InvalidInput, NotFound
from brightline.storage.base import utcnow

__all__ = [
    "AnalysisRun",
    "IntakeWatermark",
    "QueueRow",
    "ReportAnalysis",
    "agencies",
    "analyse_intake",
    "analysis_due",
    "analysis_queue",
    "analysis_runs",
    "dashboard_facts",
    "intake_watermark",
    "latest_run_id",
    "parse_closing_reason",
    "parse_referral_status",
    "record_feedback",
    "replay_intake",
    "report_analysis",
]

log = logging.getLogger(__name__)

TOP_REASONS = 3
"""Contributions shown in a queue row (the report page shows every one)."""


@dataclass(frozen=True, slots=True)
class AnalysisRun:
    """What one :func:`analyse_intake` stored."""

    reports: int
    unreadable: tuple[int, ...]
    """Finished reports the reader refused (left out of this run; their old result removed)."""
    tiers: Mapping[str, int]
    referrals: int
    weights_version: str
    run_id: int = 0
    """The stored :class:`AnalysisRunRecord`."""
    files: Mapping[str, int] | None = None
    """Files per novelty (known, new, unchecked)."""


@dataclass(frozen=True, slots=True)
class IntakeWatermark:
    """How many intake reports are finished, and when the latest one finished: what a run
    reads. Finished reports never change, so an unchanged watermark means nothing new."""

    finished_reports: int
    last_finished_at: datetime | None


def intake_watermark(*, session: Session) -> IntakeWatermark:
    count, latest = session.execute(
        select(func.count(), func.max(IntakeReport.finished_at)).where(
            IntakeReport.status == IntakeStatus.FINISHED.value
        )
    ).one()
    return IntakeWatermark(int(count), latest)


def analysis_due(*, session: Session) -> bool:
    """True unless the latest run saw exactly the finished reports there are now (a scheduled
    run then has nothing to do)."""
    last = session.scalars(
        select(AnalysisRunRecord).order_by(AnalysisRunRecord.id.desc()).limit(1)
    ).first()
    if last is None:
        return True
    now = intake_watermark(session=session)
    return (last.finished_reports, last.last_finished_at) != (
        now.finished_reports,
        now.last_finished_at,
    )


def latest_run_id(*, session: Session) -> int | None:
    """The newest analysis run's id: the version of everything stored (None before any run)."""
    return session.scalar(select(func.max(AnalysisRunRecord.id)))


def analysis_runs(*, session: Session, limit: int = 20) -> list[AnalysisRunRecord]:
    """The latest runs, newest first."""
    if limit < 1:
        raise InvalidInput("the limit must be at least 1")
    return list(
        session.scalars(
            select(AnalysisRunRecord).order_by(AnalysisRunRecord.id.desc()).limit(limit)
        )
    )


def _details_document(received: IntakeFile) -> bytes:
    """The file's ``<fileDetails>``, or a bare one when the provider sent none (the file still
    counts: its received digests are what analysis compares)."""
    if received.details is not None:
        return received.details.encode()
    return f"<fileDetails><fileId>{received.file_id}</fileId></fileDetails>".encode()


def _incoming(report: IntakeReport, provider: str, files: Sequence[IntakeFile]) -> IncomingReport:
    """The stored report as the analysis core's :class:`IncomingReport`.

    The digests the intake computed from the bytes it received replace whatever hashes the
    provider wrote: analysis compares what the clearinghouse actually holds. The provider's
    PDQ hash (which the intake cannot compute for arbitrary files) is kept.
    """
    parsed = parse_report_xml(
        report.document.encode(),
        report_id=str(report.id),
        provider=provider,
        received_at=report.received_at,
        file_details=[_details_document(f) for f in files],
    )
    held = [
        replace(reported, file_id=received.file_id, md5=received.md5, sha1=received.sha1)
        for reported, received in zip(parsed.files, files, strict=True)
    ]
    return replace(parsed, files=tuple(held))


def _finished_reports(session: Session) -> list[tuple[IntakeReport, str, list[IntakeFile]]]:
    rows = session.execute(
        select(IntakeReport, IntakeProvider.name)
        .join(IntakeProvider, IntakeProvider.id == IntakeReport.provider_id)
        .where(IntakeReport.status == IntakeStatus.FINISHED.value)
        .order_by(IntakeReport.id)
    ).all()
    files: dict[int, list[IntakeFile]] = {}
    for received in session.scalars(
        select(IntakeFile)
        .join(IntakeReport, IntakeReport.id == IntakeFile.report_id)
        .where(IntakeReport.status == IntakeStatus.FINISHED.value)
        .order_by(IntakeFile.id)
    ):
        files.setdefault(received.report_id, []).append(received)
    return [(report, name, files.get(report.id, [])) for report, name in rows]


def _readable_reports(session: Session) -> tuple[list[IncomingReport], list[int]]:
    """Every finished report the reader accepts, and the ids of those it refused."""
    incoming: list[IncomingReport] = []
    unreadable: list[int] = []
    for report, provider, files in _finished_reports(session):
        try:
            incoming.append(_incoming(report, provider, files))
        except InvalidInput:
            # Schema-valid but refused by the reader (e.g. a malformed digest): logged by id,
            # never by content, and left out rather than stopping every other report.
            log.warning("clearinghouse report %s could not be read for analysis", report.id)
            unreadable.append(report.id)
    return incoming, unreadable


def _group_json(group: LinkedGroup) -> dict[str, Any]:
    return {
        "group_id": group.group_id,
        "reports": [int(r) for r in group.reports],
        "providers": list(group.providers),
        "evidence": [
            {
                "kind": item.identifier.kind.value,
                "scope": item.identifier.scope,
                "value": item.identifier.value,
                "reports": [int(r) for r in item.reports],
                "first_at": None if item.first_at is None else item.first_at.isoformat(),
                "last_at": None if item.last_at is None else item.last_at.isoformat(),
                "caution": item.caution,
            }
            for item in group.evidence
        ],
    }


def _store_result(
    session: Session, analysis: Analysis, incoming: IncomingReport, as_of: datetime, now: datetime
) -> AnalysisResult:
    triaged = analysis.results[incoming.report_id]
    files = []
    for reported in incoming.files:
        ref = (incoming.report_id, reported.file_id)
        cluster = analysis.clustering.cluster_of(ref)
        bundle = analysis.bundling.bundle_of(ref)
        files.append(
            {
                "file_id": reported.file_id,
                "md5": reported.md5,
                "sha1": reported.sha1,
                "pdq": reported.pdq,
                "novelty": "unchecked" if analysis.known is None else analysis.known.of(ref).value,
                "cluster_id": None if cluster is None else cluster.cluster_id,
                "bundle_id": None if bundle is None else bundle.bundle_id,
            }
        )
    groups = analysis.linking.groups_of_report(incoming)
    report_id = int(incoming.report_id)
    values: dict[str, Any] = {
        "score": triaged.score,
        "tier": triaged.tier.value,
        "informational": not triaged.actionable,
        "informational_reasons": json.dumps([r.value for r in triaged.informational_reasons]),
        "overridden": json.dumps([r.value for r in triaged.overridden]),
        "contributions": json.dumps(
            [
                {"feature": c.feature, "points": c.points, "detail": c.detail}
                for c in triaged.contributions
            ]
        ),
        "weights_version": triaged.config_version,
        "files": json.dumps(files),
        "cluster_id": next((f["cluster_id"] for f in files if f["cluster_id"] is not None), None),
        "bundle_id": next((f["bundle_id"] for f in files if f["bundle_id"] is not None), None),
        "linked_group_id": groups[0].group_id if groups else None,
        "links": json.dumps([_group_json(g) for g in groups]),
        "as_of": as_of,
        "analysed_at": now,
        "incident_at": incoming.incident_at,
    }
    stored = session.get(AnalysisResult, report_id)
    if stored is None:
        stored = AnalysisResult(report_id=report_id, **values)
        session.add(stored)
    else:
        for key, value in values.items():
            setattr(stored, key, value)
    return stored


def _store_referrals(session: Session, analysis: Analysis, report_id: int, now: datetime) -> int:
    """Make the report's referrals the routing's: new agencies added, routing refreshed, and a
    referral no longer routed removed unless the agency already gave feedback on it."""
    decision = analysis.routing[str(report_id)]
    existing = {
        r.agency_id: r
        for r in session.scalars(select(Referral).where(Referral.report_id == report_id))
    }
    # One row per agency: an operator whose national queue also covers a region would get
    # it twice from the router (once by jurisdiction, once for the unassigned regions).
    routed: dict[str, tuple[list[str], str]] = {}
    for referral in decision.referrals:
        regions, reason = routed.setdefault(referral.agency_id, ([], referral.reason))
        regions.extend(r for r in referral.regions if r not in regions)
    for agency_id, (regions, reason) in routed.items():
        row = existing.get(agency_id)
        if row is None:
            row = Referral(
                report_id=report_id,
                agency_id=agency_id,
                status=ReferralStatus.NEW.value,
                first_routed_at=now,
            )
            session.add(row)
        elif row.first_routed_at is None:
            row.first_routed_at = now
        row.regions = json.dumps(regions)
        row.routing_reason = reason
        row.routed_at = now
    for agency_id, row in existing.items():
        if agency_id not in routed and row.feedback_at is None:
            session.delete(row)
    return len(routed)


def analyse_intake(
    *,
    session: Session,
    as_of: datetime,
    router: Router | None = None,
    weights: TriageConfig | None = None,
    lookup: KnownMaterialLookup | None = None,
    known_sources: int | None = None,
    trigger: RunTrigger = RunTrigger.API,
    triggered_by: str = "api",
    now: datetime | None = None,
) -> AnalysisRun:
    """Analyse every finished intake report together and store the results (idempotent).

    ``as_of`` is the triage time; ``weights`` the triage configuration (the shipped default
    when None); ``lookup`` the known-material banks (without it no file is known or new;
    ``known_sources`` says how many banks and lists it consults, for the run's record).
    Without a ``router`` the stored referrals are left as they are. The run itself is recorded
    (:class:`AnalysisRunRecord`, with ``trigger`` and ``triggered_by``) in the same transaction.
    """
    started = utcnow()
    moment = now or started
    watermark = intake_watermark(session=session)
    incoming, unreadable = _readable_reports(session)
    analysis = analyse(incoming, as_of=as_of, lookup=lookup, triage_config=weights, router=router)
    tiers: Counter[str] = Counter()
    referrals = 0
    version = ""
    for one in incoming:
        stored = _store_result(session, analysis, one, as_of, moment)
        tiers[stored.tier] += 1
        version = stored.weights_version
        if router is not None:
            referrals += _store_referrals(session, analysis, int(one.report_id), moment)
    for report_id in unreadable:
        stale = session.get(AnalysisResult, report_id)
        if stale is not None:
            session.delete(stale)
    novelty: Counter[str] = Counter()
    for one in incoming:
        for reported in one.files:
            ref = (one.report_id, reported.file_id)
            novelty[Novelty.UNCHECKED if analysis.known is None else analysis.known.of(ref)] += 1
    counts = {tier.value: tiers.get(tier.value, 0) for tier in Tier}
    per_novelty = {kind.value: novelty.get(kind.value, 0) for kind in Novelty}
    version = version or (weights.version if weights is not None else "")
    record = AnalysisRunRecord(
        started_at=started,
        finished_at=utcnow(),
        as_of=as_of,
        trigger=trigger.value,
        triggered_by=triggered_by[:200] or "unknown",
        reports=len(incoming),
        refused=len(unreadable),
        referrals=referrals,
        files_known=per_novelty[Novelty.KNOWN],
        files_new=per_novelty[Novelty.NEW],
        files_unchecked=per_novelty[Novelty.UNCHECKED],
        weights_version=version,
        known_sources=(0 if lookup is None else 1) if known_sources is None else known_sources,
        finished_reports=watermark.finished_reports,
        last_finished_at=watermark.last_finished_at,
        **counts,
    )
    session.add(record)
    session.flush()
    log.info(
        "analysis run %s stored %d clearinghouse reports (%d unreadable, %d referrals)",
        record.id,
        len(incoming),
        len(unreadable),
        referrals,
    )
    return AnalysisRun(
        reports=len(incoming),
        unreadable=tuple(unreadable),
        tiers=counts,
        referrals=referrals,
        weights_version=version,
        run_id=record.id,
        files=per_novelty,
    )


def replay_intake(
    *,
    session: Session,
    as_of: datetime,
    old_weights: TriageConfig,
    new_weights: TriageConfig,
    lookup: KnownMaterialLookup | None = None,
) -> Replay:
    """What a weight change would move: every finished report's features (clusters, links,
    bundles, known/new) scored under both configurations. Stores nothing: an operator looks
    before running ``analyse`` with the new weights."""
    incoming, _ = _readable_reports(session)
    analysis = analyse(incoming, as_of=as_of, lookup=lookup, triage_config=old_weights)
    return replay(analysis.features, old_weights, new_weights)


# ------------------------------------------------------------------------------ reading back


@dataclass(frozen=True, slots=True)
class QueueRow:
    report_id: int
    tier: str
    score: int
    top_reasons: tuple[str, ...]
    referrals: tuple[Referral, ...]


@dataclass(frozen=True, slots=True)
class ReportAnalysis:
    """Everything the investigator page shows of one report (hashes, never media)."""

    result: AnalysisResult
    contributions: tuple[Mapping[str, Any], ...]
    informational_reasons: tuple[str, ...]
    overridden: tuple[str, ...]
    files: tuple[Mapping[str, Any], ...]
    links: tuple[Mapping[str, Any], ...]
    referrals: tuple[Referral, ...]


_TIER_ORDER = case(
    {tier.value: tier.rank for tier in Tier}, value=AnalysisResult.tier, else_=len(Tier)
)


def _top_reasons(contributions: str) -> tuple[str, ...]:
    items = sorted(json.loads(contributions), key=lambda c: -int(c["points"]))
    return tuple(str(c["detail"]) for c in items[:TOP_REASONS])


def _referred_to(agencies: Collection[str]) -> Any:
    return AnalysisResult.report_id.in_(
        select(Referral.report_id).where(Referral.agency_id.in_(sorted(agencies)))
    )


def analysis_queue(
    *,
    session: Session,
    agency: str | None = None,
    limit: int = 100,
    scope: Collection[str] | None = None,
) -> list[QueueRow]:
    """Analysed reports, most urgent first (tier, then score, then report id); with ``agency``
    only those referred to it. ``scope`` (an investigator's agencies; None: every agency)
    limits the reports to those referred to one of them, and their referrals to those."""
    if limit < 1:
        raise InvalidInput("the limit must be at least 1")
    query = select(AnalysisResult)
    if agency is not None:
        query = query.where(_referred_to([agency]))
    if scope is not None:
        query = query.where(_referred_to(scope))
    results = list(
        session.scalars(
            query.order_by(
                _TIER_ORDER, AnalysisResult.score.desc(), AnalysisResult.report_id
            ).limit(limit)
        )
    )
    by_report: dict[int, list[Referral]] = {}
    if results:
        for referral in session.scalars(
            select(Referral)
            .where(Referral.report_id.in_([r.report_id for r in results]))
            .order_by(Referral.agency_id)
        ):
            if scope is None or referral.agency_id in scope:
                by_report.setdefault(referral.report_id, []).append(referral)
    return [
        QueueRow(
            report_id=r.report_id,
            tier=r.tier,
            score=r.score,
            top_reasons=_top_reasons(r.contributions),
            referrals=tuple(by_report.get(r.report_id, [])),
        )
        for r in results
    ]


def agencies(*, session: Session, scope: Collection[str] | None = None) -> list[str]:
    """Every agency with at least one referral (for the queue's filter), within ``scope``."""
    found = session.scalars(select(Referral.agency_id).distinct().order_by(Referral.agency_id))
    return [a for a in found if scope is None or a in scope]


def report_analysis(
    *, session: Session, report_id: int, scope: Collection[str] | None = None
) -> ReportAnalysis:
    """The stored analysis of one report; :class:`NotFound` if it has none, or (with
    ``scope``, an investigator's agencies) if it was referred to none of them: another
    agency's report is answered exactly like a missing one. Only the referrals within
    ``scope`` are returned."""
    result = session.get(AnalysisResult, report_id)
    if result is None:
        raise NotFound(f"no analysis of clearinghouse report {report_id}")
    referrals = [
        r
        for r in session.scalars(
            select(Referral).where(Referral.report_id == report_id).order_by(Referral.agency_id)
        )
        if scope is None or r.agency_id in scope
    ]
    if scope is not None and not referrals:
        raise NotFound(f"no analysis of clearinghouse report {report_id}")
    return ReportAnalysis(
        result=result,
        contributions=tuple(json.loads(result.contributions)),
        informational_reasons=tuple(json.loads(result.informational_reasons)),
        overridden=tuple(json.loads(result.overridden)),
        files=tuple(json.loads(result.files)),
        links=tuple(json.loads(result.links)),
        referrals=tuple(referrals),
    )


def dashboard_facts(*, session: Session) -> list[ReportFacts]:
    """Every analysed report as the dashboard's facts (ids, times, counts; no identifiers).

    Reads the results' file lists (JSON) once each, in batches; a referral stored before
    migration 0017 counts from when it was last routed (its first routing is unknown).
    """
    referrals: dict[int, list[tuple[str, datetime | None]]] = {}
    for report_id, agency_id, first, latest in session.execute(
        select(
            Referral.report_id, Referral.agency_id, Referral.first_routed_at, Referral.routed_at
        ).order_by(Referral.report_id, Referral.agency_id)
    ):
        referrals.setdefault(report_id, []).append((agency_id, first or latest))
    rows = session.execute(
        select(
            AnalysisResult.report_id,
            IntakeProvider.name,
            IntakeReport.received_at,
            AnalysisResult.incident_at,
            AnalysisResult.tier,
            AnalysisResult.bundle_id,
            AnalysisResult.files,
        )
        .join(IntakeReport, IntakeReport.id == AnalysisResult.report_id)
        .join(IntakeProvider, IntakeProvider.id == IntakeReport.provider_id)
        .order_by(AnalysisResult.report_id)
        .execution_options(yield_per=5000)
    )
    found = []
    for report_id, provider, received_at, incident_at, tier, bundle_id, files in rows:
        novelty: Counter[str] = Counter()
        duplicated = 0
        for one in json.loads(files):
            novelty[str(one.get("novelty", Novelty.UNCHECKED.value))] += 1
            duplicated += one.get("cluster_id") is not None
        found.append(
            ReportFacts(
                report_id=str(report_id),
                provider=provider,
                received_at=received_at,
                incident_at=incident_at,
                tier=tier,
                bundled=bundle_id is not None,
                files_known=novelty[Novelty.KNOWN.value],
                files_new=novelty[Novelty.NEW.value],
                files_unchecked=sum(
                    n for k, n in novelty.items() if k not in (Novelty.KNOWN, Novelty.NEW)
                ),
                files_duplicated=duplicated,
                referrals=tuple(referrals.get(report_id, ())),
            )
        )
    return found


# ------------------------------------------------------------------------------------ feedback


def _member(kind: type[ReferralStatus] | type[ClosingReason], value: str, what: str) -> str:
    key = value.strip().lower().replace("-", "_").replace(" ", "_")
    known = {member.value for member in kind}
    if key not in known:
        raise InvalidInput(f"unknown {what} {value!r} (known: {', '.join(sorted(known))})")
    return key


def parse_referral_status(value: str) -> ReferralStatus:
    return ReferralStatus(_member(ReferralStatus, value, "referral status"))


def parse_closing_reason(value: str) -> ClosingReason:
    return ClosingReason(_member(ClosingReason, value, "closing reason"))


def record_feedback(
    *,
    session: Session,
    referral_id: int,
    status: str,
    reason: str | None,
    actor: str,
    now: datetime | None = None,
    scope: Collection[str] | None = None,
) -> Referral:
    """An agency's feedback on a referral: its status and, when closed, why (DOMAIN.md §5).

    A closed referral needs a closing reason and any other status refuses one, so "closed" is
    never recorded without the reason the clearinghouse learns from. With ``scope`` (an
    investigator's agencies) another agency's referral is :class:`NotFound`.
    """
    chosen = parse_referral_status(status)
    closing = parse_closing_reason(reason) if reason and reason.strip() else None
    if chosen is ReferralStatus.CLOSED and closing is None:
        raise InvalidInput("a closed referral needs a closing reason")
    if chosen is not ReferralStatus.CLOSED and closing is not None:
        raise InvalidInput("a closing reason is only for a closed referral")
    if not actor.strip():
        raise InvalidInput("feedback needs who recorded it")
    referral = session.get(Referral, referral_id, with_for_update=True)
    if referral is None or (scope is not None and referral.agency_id not in scope):
        raise NotFound(f"no referral {referral_id}")
    referral.status = chosen.value
    referral.closing_reason = None if closing is None else closing.value
    referral.feedback_by = actor
    referral.feedback_at = now or utcnow()
    session.flush()
    log.info("referral %s: feedback %s recorded", referral.id, chosen.value)
    return referral
