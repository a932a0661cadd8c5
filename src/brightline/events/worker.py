"""The background delivery loop each service worker process runs.

Every worker runs one; leases (see :mod:`brightline.events.delivery`) keep them from sending the
same delivery twice at once, and since all state is in the database a restarted service simply
carries on with what is pending. Once an hour the loop also prunes old outbox rows and old
flood-guard counts, so neither table grows without bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
from sqlalchemy.orm import Session, sessionmaker

from brightline.events.delivery import DeliveryReport, RetryPolicy, deliver_due, webhook_client
from brightline.events.flood_guard import prune_counts
from brightline.events.outbox import prune_delivered
from brightline.settings import Settings
from brightline.storage.base import utcnow

log = logging.getLogger(__name__)

PRUNE_EVERY = timedelta(hours=1)

OnReport = Callable[[DeliveryReport], None]


def prune(*, sessions: sessionmaker[Session], settings: Settings, now: datetime) -> None:
    """Delete delivered deliveries past retention and counts older than any baseline needs."""
    with sessions.begin() as session:
        prune_delivered(
            session=session, before=now - timedelta(days=settings.webhooks.retention_days)
        )
        prune_counts(
            session=session,
            before=now - timedelta(days=settings.flood_guard.baseline_days + 1),
        )


def _one_pass(
    sessions: sessionmaker[Session],
    client: httpx.Client,
    settings: Settings,
    policy: RetryPolicy,
    stop: threading.Event,
    prune_now: datetime | None,
) -> DeliveryReport:
    """Deliver what is due, then prune when asked to (both in the same worker thread)."""
    report = deliver_due(
        sessions, client, batch=settings.webhooks.batch_size, policy=policy, stop=stop
    )
    if prune_now is not None and not stop.is_set():
        prune(sessions=sessions, settings=settings, now=prune_now)
    return report


async def deliver_forever(
    sessions: sessionmaker[Session], settings: Settings, *, on_report: OnReport | None = None
) -> None:
    """Deliver due webhooks until cancelled; a full batch is followed by the next at once.

    Passes run in a thread (the HTTP client and database calls block). On cancellation the
    current pass is told to stop after its in-flight request and awaited, so a delivery is never
    abandoned between its request and the recording of its outcome, and no thread is left using
    the database after the service disposes of its engine.
    """
    config = settings.webhooks
    policy = RetryPolicy.from_settings(config)
    stop = threading.Event()
    last_pruned: datetime | None = None
    with webhook_client(config) as client:
        while True:
            full = False
            now = utcnow()
            prune_now = now if last_pruned is None or now - last_pruned >= PRUNE_EVERY else None
            work = asyncio.ensure_future(
                asyncio.to_thread(_one_pass, sessions, client, settings, policy, stop, prune_now)
            )
            try:
                report = await asyncio.shield(work)
                full = report.attempted >= config.batch_size
                if on_report is not None and report.attempted:
                    on_report(report)
                if prune_now is not None:
                    last_pruned = prune_now
            except asyncio.CancelledError:
                stop.set()
                with contextlib.suppress(Exception):
                    await work
                raise
            except Exception as exc:
                # Keep the loop alive through database outages; the rows wait in the outbox.
                log.warning("webhook delivery pass failed: %s", type(exc).__name__)
            if not full:
                await asyncio.sleep(config.poll_seconds)
