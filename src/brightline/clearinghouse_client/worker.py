"""The background submission loop a service process runs (not wired in yet: see the docs).

Like the webhook loop (:mod:`brightline.events.worker`): passes run in a thread because the HTTP
client and the database calls block; leases keep concurrent workers apart; all state is in the
database, so a restarted service carries on where the last one stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from brightline.clearinghouse_client.client import CyberTiplineClient
from brightline.clearinghouse_client.delivery import (
    MediaSource,
    RetryPolicy,
    SubmissionPassReport,
    deliver_due_reports,
)
from brightline.settings import CyberTiplineSettings

log = logging.getLogger(__name__)

OnReport = Callable[[SubmissionPassReport], None]


async def submit_forever(
    sessions: sessionmaker[Session],
    settings: CyberTiplineSettings,
    store: MediaSource,
    *,
    client: CyberTiplineClient | None = None,
    on_report: OnReport | None = None,
) -> None:
    """Submit due reports until cancelled; a full batch is followed by the next at once.

    On cancellation the current pass is told to stop after the submission in hand and is
    awaited: a step is never abandoned between its remote call and the recording of its answer
    by *this* code path (a hard kill still can be, which the step machine is built to survive).
    """
    policy = RetryPolicy.from_settings(settings)
    stop = threading.Event()
    owned = client is None
    http = client or CyberTiplineClient.from_settings(settings)
    try:
        while True:
            full = False
            work = asyncio.ensure_future(
                asyncio.to_thread(
                    deliver_due_reports,
                    sessions,
                    http,
                    store,
                    batch=settings.batch_size,
                    policy=policy,
                    stop=stop,
                )
            )
            try:
                report = await asyncio.shield(work)
                full = report.attempted >= settings.batch_size
                if on_report is not None and report.attempted:
                    on_report(report)
            except asyncio.CancelledError:
                stop.set()
                with contextlib.suppress(Exception):
                    await work
                raise
            except Exception as exc:
                # Keep the loop alive through database outages; the rows wait in the outbox.
                log.warning("report submission pass failed: %s", type(exc).__name__)
            if not full:
                await asyncio.sleep(settings.poll_seconds)
    finally:
        if owned:
            http.close()
