"""Platform to clearinghouse, end to end: a report filed on a confirmed case goes through the
durable outbox and the submission worker, over real loopback HTTP, into the intake, and
arrives finished with its file hashed and sealed in the clearinghouse's vault.

The platform and the intake share one database here, as ``brightline serve --role both`` does;
each keeps its own vault. The file is random bytes, the user a placeholder.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
from dataclasses import replace
from pathlib import Path

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from brightline.clearinghouse.intake import report_files
from brightline.clearinghouse.models import IntakeReport
from brightline.clearinghouse_client.client import CyberTiplineClient
from brightline.clearinghouse_client.models import ReportSubmission
from brightline.clearinghouse_client.worker import submit_forever
from brightline.evidence.store import EvidenceStore
from brightline.reports import EnrichmentRequest, IncidentType, ReportContext
from brightline.reports.filing import file_report
from brightline.reports.models import Report
from brightline.review import ContentFacts, flag_content
from brightline.settings import CyberTiplineSettings
from tests.clearinghouse_intake.conftest import PASSWORD, PROVIDER
from tests.reports.helpers import CONTEXT, NOW, REPORTER, UPLOADED, settle, user


class PlatformContext:
    """The platform's enricher: where the content was (a placeholder page)."""

    def enrich(self, request: EnrichmentRequest) -> ReportContext:
        return CONTEXT


def test_a_filed_report_arrives_finished_through_the_outbox_and_worker(
    sessions: sessionmaker[Session], store: EvidenceStore, intake_url: str, schema_path: Path
) -> None:
    platform_vault = EvidenceStore(
        Path(store.directory).parent / "platform", secrets.token_bytes(32)
    )
    data = os.urandom(30_000)
    md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
    with sessions.begin() as session:
        flagged = flag_content(
            session=session,
            subject=user(7),
            content=ContentFacts(
                sha256=hashlib.sha256(data).hexdigest(),
                md5=md5,
                sha1=hashlib.sha1(data, usedforsecurity=False).hexdigest(),
                media_type="application/octet-stream",
                media_ref=platform_vault.put(data),
                uploaded_at=UPLOADED,
            ),
            matches=[],
            source="upload",
            now=NOW,
        )
        settle(session, flagged.job.id)
        filed = file_report(
            session=session,
            case_id=flagged.item.case_id,
            incident_type=IncidentType.CHILD_PORNOGRAPHY,
            actor="lead-a",
            reporter=replace(REPORTER, schema_path=schema_path),
            enricher=PlatformContext(),
            media=platform_vault,
            now=NOW,
        )
    assert filed.submission_id is not None

    # The service's background loop, run until the outbox reports the submission finished.
    settings = CyberTiplineSettings(
        url=intake_url, username=PROVIDER, password=PASSWORD, timeout_seconds=10, poll_seconds=0.05
    )

    async def deliver() -> None:
        done = asyncio.Event()
        with CyberTiplineClient(intake_url, PROVIDER, PASSWORD, timeout=10) as client:
            task = asyncio.create_task(
                submit_forever(
                    sessions,
                    settings,
                    platform_vault,
                    client=client,
                    on_report=lambda report: done.set() if report.finished else None,
                )
            )
            try:
                await asyncio.wait_for(done.wait(), timeout=60)
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    asyncio.run(deliver())

    with sessions() as session:
        submission = session.get(ReportSubmission, filed.submission_id)
        assert submission is not None
        assert submission.status == "finished"
        report = session.get(Report, filed.built.report_id)
        assert report is not None
        assert report.status == "finished"
        received = session.scalars(select(IntakeReport)).one()
        assert received.id == report.clearinghouse_report_id
        assert received.status == "finished"
        assert received.finished_at is not None
        # The document is the platform's report as built, validated on arrival.
        incident = etree.fromstring(received.document.encode()).findtext(
            "incidentSummary/incidentType"
        )
        assert incident == IncidentType.CHILD_PORNOGRAPHY.value
        (stored,) = report_files(session=session, report_id=received.id)
        assert (stored.md5, stored.size) == (md5, len(data))
        assert stored.sha1 == hashlib.sha1(data, usedforsecurity=False).hexdigest()
        assert stored.details is not None
        assert f"<fileId>{stored.file_id}</fileId>" in stored.details
    assert store.read(stored.vault_ref) == data
