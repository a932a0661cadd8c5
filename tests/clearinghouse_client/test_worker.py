"""The background loop: it submits what is queued, and stops cleanly when cancelled."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses

from sqlalchemy.orm import Session, sessionmaker

from brightline.clearinghouse_client.client import CyberTiplineClient
from brightline.clearinghouse_client.models import ReportSubmission
from brightline.clearinghouse_client.outbox import enqueue_report
from brightline.clearinghouse_client.worker import submit_forever
from brightline.evidence.store import EvidenceStore
from brightline.settings import CyberTiplineSettings
from tests.clearinghouse_client.conftest import make_report
from tests.clearinghouse_client.lifecycle_server import ServerState


def test_the_loop_submits_queued_reports_until_cancelled(
    sessions: sessionmaker[Session],
    client: CyberTiplineClient,
    store: EvidenceStore,
    server: ServerState,
) -> None:
    with sessions.begin() as session:
        built = make_report(session, store, files=1)
        submission_id = enqueue_report(session=session, report_id=built.report_id).id
    settings = dataclasses.replace(CyberTiplineSettings(), poll_seconds=0.05)

    def status() -> str:
        with sessions() as session:
            row = session.get(ReportSubmission, submission_id)
            return row.status if row is not None else "missing"

    async def scenario() -> str:
        task = asyncio.create_task(submit_forever(sessions, settings, store, client=client))
        for _ in range(400):
            if status() == "finished":
                break
            await asyncio.sleep(0.05)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return status()

    assert asyncio.run(scenario()) == "finished"
    assert len(server.finished_reports()) == 1
