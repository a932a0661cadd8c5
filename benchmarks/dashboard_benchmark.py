"""Clearinghouse dashboard: a view that reads every stored result against a view kept per run.

Fills a fresh SQLite database with N analysed reports (providers, intake rows, results with a
few files each, one or two referrals each; generated ids and times, no content), then times,
in the same run:

* **build**: what the first view after an analysis run costs: ``dashboard_facts`` (every
  result's file list) and ``build_dashboard``, for every agency and for one agency's scope;
* **kept**: a later view of the same run through ``DashboardCache`` (the latest run's id is
  still read from the database each time).

Prints medians and the ratio. Run: ``python benchmarks/dashboard_benchmark.py --reports 200000``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from brightline.clearinghouse.analysis_models import AnalysisResult, AnalysisRunRecord, Referral
from brightline.clearinghouse.analysis_store import dashboard_facts, latest_run_id
from brightline.clearinghouse.dashboard import Dashboard, DashboardCache, build_dashboard
from brightline.clearinghouse.models import IntakeProvider, IntakeReport
from brightline.storage import create_engine_for, session_factory, upgrade_database

T0 = datetime(2026, 1, 1, tzinfo=UTC)
AGENCIES = [f"example-agency-{n}" for n in range(20)]
TIERS = ["immediate", "high", "normal", "informational"]
BATCH = 20_000


def _fill(sessions: sessionmaker[Session], reports: int, seed: int) -> None:
    rng = random.Random(seed)
    with sessions.begin() as session:
        session.execute(
            insert(IntakeProvider),
            [
                {"id": n + 1, "name": f"esp-{n}", "password_hash": "-", "created_at": T0}
                for n in range(10)
            ],
        )
        session.add(
            AnalysisRunRecord(
                started_at=T0, finished_at=T0, as_of=T0, trigger="command", triggered_by="bench",
                reports=reports, refused=0, referrals=0, files_known=0, files_new=0,
                files_unchecked=0, weights_version="bench", known_sources=0,
                finished_reports=reports, last_finished_at=T0, immediate=0, high=0, normal=0,
                informational=0,
            )
        )  # fmt: skip
    for start in range(0, reports, BATCH):
        ids = range(start + 1, min(reports, start + BATCH) + 1)
        intake, results, referrals = [], [], []
        for report_id in ids:
            received = T0 + timedelta(minutes=rng.randrange(365 * 24 * 60))
            intake.append(
                {
                    "id": report_id,
                    "provider_id": rng.randrange(10) + 1,
                    "status": "finished",
                    "document": "<report/>",
                    "received_at": received,
                    "finished_at": received,
                }
            )
            files = [
                {
                    "file_id": f"{report_id}-{k}",
                    "novelty": rng.choice(["known", "new", "unchecked"]),
                    "cluster_id": rng.choice([None, None, rng.randrange(1000)]),
                }
                for k in range(rng.randrange(1, 4))
            ]
            results.append(
                {
                    "report_id": report_id,
                    "score": rng.randrange(100),
                    "tier": rng.choice(TIERS),
                    "informational": False,
                    "weights_version": "bench",
                    "files": json.dumps(files),
                    "bundle_id": rng.choice([None, None, None, 1]),
                    "as_of": T0,
                    "analysed_at": T0,
                    "incident_at": received - timedelta(hours=rng.randrange(1, 500)),
                }
            )
            for agency in rng.sample(AGENCIES, rng.randrange(1, 3)):
                routed = received + timedelta(hours=rng.randrange(1, 48))
                referrals.append(
                    {
                        "report_id": report_id,
                        "agency_id": agency,
                        "routing_reason": "jurisdiction",
                        "routed_at": routed,
                        "first_routed_at": routed,
                    }
                )
        with sessions.begin() as session:
            session.execute(insert(IntakeReport), intake)
            session.execute(insert(AnalysisResult), results)
            session.execute(insert(Referral), referrals)


def _median(repeats: int, view: Callable[[], Dashboard]) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        view()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    python = f"{platform.python_implementation()} {platform.python_version()}"
    print(f"# {python}, load {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine_for(f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrade_database(engine)
        sessions = session_factory(engine)
        started = time.perf_counter()
        _fill(sessions, args.reports, args.seed)
        print(
            f"# filled {args.reports:,} analysed reports in {time.perf_counter() - started:.1f} s"
        )
        cache = DashboardCache()
        print("| scope | build (median s) | kept (median s) | build / kept |")
        print("|---|---:|---:|---:|")
        for label, scope in (("every agency", None), ("one agency", [AGENCIES[0]])):

            def build(scope: list[str] | None = scope) -> Dashboard:
                with sessions.begin() as session:
                    return build_dashboard(dashboard_facts(session=session), scope=scope)

            def kept(scope: list[str] | None = scope) -> Dashboard:
                with sessions.begin() as session:
                    return cache.get(latest_run_id(session=session), scope, lambda: build(scope))

            built = _median(args.repeats, build)
            kept()  # the first view builds it
            cached = _median(max(args.repeats, 5), kept)
            print(f"| {label} | {built:.2f} | {cached:.4f} | {built / cached:,.0f}x |")
        engine.dispose()


if __name__ == "__main__":
    main()
