"""The demo's clearinghouse half: the platform files reports and the clearinghouse receives them.

Part of the command line (not :mod:`brightline.demo`) because it serves the intake over HTTP,
an adapter the core never imports.

One sample case is confirmed (as the demo lead) and its report filed and queued in the durable
outbox; the submission worker's pass delivers it over loopback HTTP to the intake API served by
uvicorn in a thread (the clearinghouse role, on the same database as ``serve --role both``);
a small synthetic report set from other providers arrives by bulk import; then the analysis
runs over everything finished, and the demo prints what arrived and the tiers. The other
sample cases stay open for the review console.

Everything is generated and benign: placeholder users, stand-in images, ``example.org``.
Without the CyberTipline schema (not shipped with Brightline) this part is skipped, saying how
to enable it.
"""

from __future__ import annotations

import secrets
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import uvicorn
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from brightline.clearinghouse.analysis_models import RunTrigger
from brightline.clearinghouse.analysis_store import analyse_intake
from brightline.clearinghouse.bulk import import_directory
from brightline.clearinghouse.bulk_layout import write_cybertip_directories
from brightline.clearinghouse.intake import register_provider
from brightline.clearinghouse.models import IntakeProvider
from brightline.clearinghouse.routing import demo_router
from brightline.clearinghouse.synth import SynthConfig, generate, write_dataset
from brightline.clearinghouse_client.client import CyberTiplineClient
from brightline.clearinghouse_client.delivery import deliver_due_reports
from brightline.errors import BrightlineError
from brightline.evidence import EvidenceStore
from brightline.http.auth_cache import VerifiedLogins
from brightline.http.clearinghouse_routes import IntakeState, create_intake_app, writer_lock_for
from brightline.reports import (
    EnrichmentRequest,
    IncidentType,
    ReportContext,
    ReporterSettings,
    WebPageIncident,
)
from brightline.reports.builder import reportable_items
from brightline.reports.filing import file_report
from brightline.review import DecisionKind, claim_job, decide
from brightline.review.models import Case, Item, Subject
from brightline.settings import Settings
from brightline.storage.base import utcnow

DEMO_PROVIDER = "demo-platform"
PROVIDER_FILE = "demo-clearinghouse-provider.txt"
SYNTHETIC_REPORTS = 120
DEMO_REPORTER = ReporterSettings(
    company_name="Demo Platform (placeholder)",
    contact_first_name="Demo",
    contact_last_name="Contact",
    contact_email="reports@example.org",
    esp_service_name="Demo Service",
)


@dataclass
class ClearinghouseDemo:
    skipped: str | None = None
    skipped_filing: str | None = None
    filed: int = 0
    delivered: int = 0
    imported: int = 0
    analysed: int = 0
    tiers: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


class _DemoContext:
    """The platform's enricher for the demo: where the content was (a placeholder page)."""

    def enrich(self, request: EnrichmentRequest) -> ReportContext:
        return ReportContext(
            internet_details=(WebPageIncident(urls=("https://example.org/demo/post",)),)
        )


@contextmanager
def _serving(state: IntakeState) -> Iterator[str]:
    """The intake under uvicorn in a thread on a free loopback port; yields its base URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(
        create_intake_app(state), log_level="warning", lifespan="off", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}/ispws"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listener.close()


def _provider_password(session: Session, name: str) -> str | None:
    """A fresh provider with a random password, or None if it exists (an earlier run)."""
    if session.scalar(select(IntakeProvider.id).where(IntakeProvider.name == name)):
        return None
    password = secrets.token_urlsafe(18)
    register_provider(session=session, name=name, password=password)
    return password


def _demo_provider(sessions: sessionmaker[Session], settings: Settings) -> str | None:
    """The demo provider's password: made on the first run and kept owner-only in the data
    directory (not under ``demo/``, which every run recreates), so later runs deliver too;
    None if the provider exists without it."""
    path = settings.home / PROVIDER_FILE
    with sessions.begin() as session:
        password = _provider_password(session, DEMO_PROVIDER)
        if password is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600, exist_ok=True)
            path.chmod(0o600)
            path.write_text(f"{DEMO_PROVIDER} {password}\n")
            return password
    try:
        name, _, kept = path.read_text().strip().partition(" ")
    except OSError:
        return None
    return kept if name == DEMO_PROVIDER and kept else None


def _confirm_and_file(
    sessions: sessionmaker[Session], store: EvidenceStore, schema_path: Path
) -> int:
    """Confirm the first sample case with open items and file its report; how many filed."""
    reporter = replace(DEMO_REPORTER, schema_path=schema_path)
    with sessions.begin() as session:
        case_ids = session.scalars(
            select(Case.id).join(Subject, Subject.id == Case.subject_id).order_by(Case.id)
        ).all()
        for case_id in case_ids:
            job_ids = session.scalars(
                select(Item.job_id).where(Item.case_id == case_id).distinct()
            ).all()
            confirmed = 0
            for job_id in job_ids:
                try:
                    claim = claim_job(session=session, job_id=job_id, reviewer="demo-lead")
                    decide(
                        session=session,
                        job_id=job_id,
                        reviewer="demo-lead",
                        lock_token=claim.token,
                        kind=DecisionKind.CONFIRM,
                        idempotency_key=f"demo-{secrets.token_hex(8)}",
                        classification="A2",
                    )
                    confirmed += 1
                except BrightlineError:
                    continue  # decided earlier, or not open: try the next case
            if not confirmed and not reportable_items(session=session, case_id=case_id):
                continue
            file_report(
                session=session,
                case_id=case_id,
                incident_type=IncidentType.CHILD_PORNOGRAPHY,
                actor="demo-lead",
                reporter=reporter,
                enricher=_DemoContext(),
                media=store,
                now=utcnow(),
            )
            return 1
    return 0


def _synthetic_reports(
    sessions: sessionmaker[Session], store: EvidenceStore, schema: Path, count: int
) -> int:
    """A small synthetic report set from several providers, by bulk import (once per database:
    its providers are registered on the first run)."""
    with tempfile.TemporaryDirectory(prefix="brightline-demo-synth-") as directory:
        root = Path(directory)
        dataset = generate(SynthConfig(reports=count, seed=1, providers=2))
        write_dataset(dataset, root, files=True)
        write_cybertip_directories(dataset, root)
        imported = 0
        for provider_dir in sorted((root / "cybertip").iterdir()):
            with sessions.begin() as session:
                if _provider_password(session, provider_dir.name) is None:
                    return 0  # an earlier run imported them
            summary = import_directory(
                sessions=sessions,
                directory=provider_dir,
                provider=provider_dir.name,
                store=store,
                schema_path=schema,
                max_upload_bytes=1 << 20,
            )
            imported += summary.accepted
    return imported


def run_clearinghouse_demo(
    *,
    sessions: sessionmaker[Session],
    settings: Settings,
    schema_path: Path | None,
    synthetic_reports: int = SYNTHETIC_REPORTS,
) -> ClearinghouseDemo:
    """File, deliver, import and analyse (see the module docstring); a few seconds."""
    if schema_path is None:
        return ClearinghouseDemo(
            skipped="no CyberTipline schema: set BRIGHTLINE_CLEARINGHOUSE_SCHEMA_PATH to run it"
        )
    started = time.monotonic()
    result = ClearinghouseDemo()
    store = EvidenceStore.from_settings(settings)
    password = _demo_provider(sessions, settings)
    if password is not None:
        try:
            result.filed = _confirm_and_file(sessions, store, schema_path)
        except BrightlineError as exc:  # e.g. sample cases from an older demo, without times
            result.skipped_filing = str(exc).splitlines()[0]
        state = IntakeState(
            sessions=sessions,
            store=store,
            schema_path=schema_path,
            max_upload_bytes=settings.clearinghouse.max_upload_bytes,
            write_lock=writer_lock_for(sessions),
            logins=VerifiedLogins(ttl=60),
        )
        with (
            _serving(state) as url,
            CyberTiplineClient(url, DEMO_PROVIDER, password, timeout=30) as client,
        ):
            result.delivered = deliver_due_reports(sessions, client, store, batch=50).finished
    result.imported = _synthetic_reports(sessions, store, schema_path, synthetic_reports)
    with sessions.begin() as session:
        run = analyse_intake(
            session=session,
            as_of=utcnow(),
            router=demo_router(),
            trigger=RunTrigger.COMMAND,
            triggered_by="demo",
        )
    result.analysed = run.reports
    result.tiers = dict(run.tiers)
    result.seconds = time.monotonic() - started
    return result


__all__ = ["DEMO_PROVIDER", "ClearinghouseDemo", "run_clearinghouse_demo"]
