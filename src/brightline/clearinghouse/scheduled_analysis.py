"""The analysis pass as configured once and run on demand or on a schedule.

``brightline clearinghouse analyse`` (once or ``--every``) and ``brightline serve --role
clearinghouse|both`` with ``BRIGHTLINE_CLEARINGHOUSE_ANALYSE_EVERY_SECONDS`` run the same pass:
an :class:`AnalysisPlan` (routing, weights, known-material lists and bank names, read and
checked once, when the command or the service starts, so a bad file stops it at once rather
than failing every run) and :func:`run_analysis` in the caller's transaction. Banks are read
afresh on every run, so entries added since count.

A scheduled run is skipped when no report finished since the last run
(:func:`~brightline.clearinghouse.analysis_store.analysis_due`). Several service workers may
each run the schedule: on PostgreSQL a transaction-scoped advisory lock lets one run at a time
and the others skip; SQLite has one writer, so runs take turns and a later one finds nothing new.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from brightline.clearinghouse.analysis_models import RunTrigger
from brightline.clearinghouse.analysis_store import AnalysisRun, analyse_intake, analysis_due
from brightline.clearinghouse.known import KnownMaterialLookup
from brightline.clearinghouse.known_sources import AnyOf, bank_lookup, load_known_list
from brightline.clearinghouse.networks import load_ip_regions, load_proxy_ranges
from brightline.clearinghouse.routing import Router, demo_router, load_routing_config
from brightline.clearinghouse.triage import TriageConfig, load_triage_config
from brightline.errors import InvalidInput
from brightline.settings import ClearinghouseSettings
from brightline.storage.base import utcnow

__all__ = [
    "AnalysisPlan",
    "analyse_forever",
    "load_analysis_plan",
    "plan_from_settings",
    "run_analysis",
]

log = logging.getLogger(__name__)

_ADVISORY_KEY = 0x42_4C_41_4E  # "BLAN": one scheduled analysis at a time (PostgreSQL)


@dataclass(frozen=True)
class AnalysisPlan:
    """What every run of the analysis uses."""

    router: Router
    weights: TriageConfig | None = None
    """None: the shipped default weights."""
    known_lists: tuple[KnownMaterialLookup, ...] = ()
    known_banks: tuple[str, ...] = ()
    """Local banks of known material, by name, read on each run."""

    @property
    def known_sources(self) -> int:
        return len(self.known_lists) + len(self.known_banks)

    def lookup(self, session: Session) -> KnownMaterialLookup | None:
        """The known-material lookup over the lists and the banks as they are now (None: no
        source, so no file is known or new)."""
        lookups: list[KnownMaterialLookup] = list(self.known_lists)
        lookups += [bank_lookup(session=session, name=name) for name in self.known_banks]
        return AnyOf(lookups) if lookups else None


def load_analysis_plan(
    *,
    routing: Path | None = None,
    ip_regions: Path | None = None,
    proxies: Path | None = None,
    weights: Path | None = None,
    known_lists: Sequence[Path] = (),
    known_banks: Sequence[str] = (),
) -> AnalysisPlan:
    """Read and check the plan's files; without ``routing``, the shipped demo agencies
    (synthetic only), which ``ip_regions`` and ``proxies`` cannot refine."""
    if routing is None:
        if ip_regions is not None or proxies is not None:
            raise InvalidInput(
                "IP regions and proxy ranges need a routing configuration "
                "(--routing, BRIGHTLINE_CLEARINGHOUSE_ROUTING)"
            )
        router = demo_router()
    else:
        router = Router(
            load_routing_config(routing),
            None if ip_regions is None else load_ip_regions(ip_regions),
            None if proxies is None else load_proxy_ranges(proxies),
        )
    return AnalysisPlan(
        router=router,
        weights=None if weights is None else load_triage_config(weights),
        known_lists=tuple(load_known_list(path) for path in known_lists),
        known_banks=tuple(known_banks),
    )


def plan_from_settings(settings: ClearinghouseSettings) -> AnalysisPlan:
    """The service's plan, from ``BRIGHTLINE_CLEARINGHOUSE_ROUTING`` and its neighbours."""
    return load_analysis_plan(
        routing=settings.routing_path,
        ip_regions=settings.ip_regions_path,
        proxies=settings.proxies_path,
        weights=settings.weights_path,
        known_lists=settings.known_lists,
        known_banks=settings.known_banks,
    )


def _take_turn(session: Session) -> bool:
    """On PostgreSQL, whether this transaction holds the scheduled analysis's advisory lock
    (released at commit or rollback); elsewhere always True (SQLite has one writer)."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(
        session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _ADVISORY_KEY})
    )


def run_analysis(
    *,
    session: Session,
    plan: AnalysisPlan,
    trigger: RunTrigger,
    triggered_by: str,
    as_of: datetime | None = None,
    force: bool = True,
) -> AnalysisRun | None:
    """One analysis of every finished report, stored in the caller's transaction; None when
    skipped (``force`` False and nothing finished since the last run, or another worker's
    scheduled run holds the turn)."""
    if not force and not (_take_turn(session) and analysis_due(session=session)):
        return None
    return analyse_intake(
        session=session,
        as_of=as_of or utcnow(),
        router=plan.router,
        weights=plan.weights,
        lookup=plan.lookup(session),
        known_sources=plan.known_sources,
        trigger=trigger,
        triggered_by=triggered_by,
    )


async def analyse_forever(
    sessions: sessionmaker[Session], plan: AnalysisPlan, every_seconds: float
) -> None:
    """Run the analysis every ``every_seconds`` until cancelled, skipping when nothing is new.

    A failed run is logged by its error's class only (a driver's message can quote values) and
    the schedule goes on: the database may be back next time. The pass runs in a thread, so
    the intake keeps answering meanwhile.
    """

    def once() -> AnalysisRun | None:
        with sessions.begin() as session:
            return run_analysis(
                session=session,
                plan=plan,
                trigger=RunTrigger.SCHEDULE,
                triggered_by="service",
                force=False,
            )

    while True:
        try:
            run = await asyncio.to_thread(once)
        except Exception as exc:
            log.warning("scheduled clearinghouse analysis failed: %s", type(exc).__name__)
        else:
            if run is not None:
                log.info(
                    "scheduled clearinghouse analysis: run %s, %d reports, %d referrals",
                    run.run_id,
                    run.reports,
                    run.referrals,
                )
        await asyncio.sleep(every_seconds)
