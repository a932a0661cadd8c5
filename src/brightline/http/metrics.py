"""Prometheus metrics at ``/metrics``: request latency, matches, index sizes, queue depths.

With several worker processes, ``brightline serve`` points ``PROMETHEUS_MULTIPROC_DIR`` at a
fresh directory before the workers start, and a scrape aggregates every worker's samples.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as prometheus_multiprocess
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from brightline.access import Principal, Role
from brightline.clearinghouse_client.outbox import submission_counts
from brightline.events import DeliveryReport, queue_counts
from brightline.http.auth import require
from brightline.http.state import ServiceState, service_state

REQUEST_SECONDS = Histogram(
    "brightline_request_seconds",
    "Time to answer an HTTP request, by route template and status.",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
MATCHES = Counter(
    "brightline_matches_total", "Matches reported, by signal type.", ["signal_type", "source"]
)
LOOKUPS = Counter(
    "brightline_lookups_total", "Items looked up (files, URLs, hashes), by source.", ["source"]
)
INDEX_ENTRIES = Gauge(
    "brightline_index_entries",
    "Hashes in this worker's in-memory index, by index.",
    ["index"],
    multiprocess_mode="max",
)
QUEUE_DEPTH = Gauge(
    "brightline_queue_depth",
    "Items waiting in a durable queue (e.g. webhook deliveries), by queue.",
    ["queue"],
    # Set by whichever worker answers a scrape: the newest value is the truth. ``max`` would
    # keep reporting another worker's reading from an earlier scrape after the queue drained.
    multiprocess_mode="mostrecent",
)

WEBHOOK_ATTEMPTS = Counter(
    "brightline_webhook_attempts_total",
    "Webhook delivery attempts, by outcome: delivered, retrying (failed, will be retried) and "
    "failed (the last attempt failed: given up until re-queued).",
    ["outcome"],
)

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""Methods recorded by name; any other is ``other``: a client can send any token as a method,
and each would otherwise add label series that live as long as the process."""

QueueDepthReader = Callable[[ServiceState], Mapping[str, int]]
_queue_readers: list[QueueDepthReader] = []


def add_queue_depth_reader(reader: QueueDepthReader) -> None:
    """Register a function read at every scrape that returns ``{queue name: depth}``."""
    _queue_readers.append(reader)


def record_webhook_report(report: DeliveryReport) -> None:
    """Count one delivery pass's attempts (called by the background delivery loop)."""
    for outcome, count in (
        ("delivered", report.delivered),
        ("retrying", report.retrying),
        ("failed", report.failed),
    ):
        if count:
            WEBHOOK_ATTEMPTS.labels(outcome=outcome).inc(count)


def webhook_queue_depths(state: ServiceState) -> Mapping[str, int]:
    """Pending deliveries (the queue) and failed ones (waiting for a person): alert on both."""
    with state.transaction() as session:
        counts = queue_counts(session=session)
    return {"webhook_deliveries": counts["pending"], "webhook_deliveries_failed": counts["failed"]}


def report_queue_depths(state: ServiceState) -> Mapping[str, int]:
    """CyberTipline submissions still on their way, and failed ones: a failed report is one the
    law requires and nobody has made yet, so it is the alert that matters most."""
    with state.transaction() as session:
        counts = submission_counts(session=session)
    waiting = sum(count for status, count in counts.items() if status not in {"finished", "failed"})
    return {"report_submissions": waiting, "report_submissions_failed": counts["failed"]}


def record_index_sizes(sizes: Mapping[str, int]) -> None:
    for name, size in sizes.items():
        INDEX_ENTRIES.labels(index=name).set(size)


class RequestTimer:
    """Pure ASGI middleware (cheaper than ``BaseHTTPMiddleware`` on every request)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def send_with_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            method = scope["method"] if scope["method"] in _METHODS else "other"
            REQUEST_SECONDS.labels(method, template, str(status["code"])).observe(
                time.perf_counter() - started
            )


add_queue_depth_reader(webhook_queue_depths)
add_queue_depth_reader(report_queue_depths)

router = APIRouter(tags=["operations"])


@router.get("/metrics", response_class=Response, summary="Prometheus metrics")
def scrape(request: Request, _: Annotated[Principal, Depends(require(Role.AUDITOR))]) -> Response:
    state = service_state(request)
    for reader in _queue_readers:
        for name, depth in reader(state).items():
            QUEUE_DEPTH.labels(queue=name).set(depth)
    registry: CollectorRegistry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def install(app: FastAPI) -> None:
    app.add_middleware(RequestTimer)
    app.include_router(router)
