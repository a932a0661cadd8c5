"""Enrichment plugins for tests (``tests.reports.plugins:<name>``): synthetic answers only.

Addresses are from the documentation ranges (192.0.2.0/24, 2001:db8::/32), URLs are
``example.org``, names are placeholders.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from brightline.reports import (
    CaptureEvent,
    EnrichmentRequest,
    FileContext,
    IpCaptureEvent,
    ReportContext,
    WebPageIncident,
)

REQUESTS: list[EnrichmentRequest] = []
"""Every request a plugin here was asked (tests clear it first)."""


def synthetic_context(request: EnrichmentRequest) -> ReportContext:
    return ReportContext(
        internet_details=(WebPageIncident(urls=("https://example.org/p/1",)),),
        ip_capture_events=(
            IpCaptureEvent(
                "192.0.2.10", CaptureEvent.LOGIN, datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
            ),
        ),
        files={
            item.item_id: FileContext(
                original_file_name="placeholder.png", publicly_available=False
            )
            for item in request.items
        },
    )


class Enricher:
    """A class that implements ``enrich`` is a plugin as it is."""

    def enrich(self, request: EnrichmentRequest) -> ReportContext:
        REQUESTS.append(request)
        return synthetic_context(request)


def make_function() -> Callable[[EnrichmentRequest], dict[str, object]]:
    """A factory returning a plain callable that answers in the wire format."""

    def enrich(request: EnrichmentRequest) -> dict[str, object]:
        REQUESTS.append(request)
        return {
            "internet_details": [{"type": "web_page", "urls": ["https://example.org/p/2"]}],
            "files": {str(item.item_id): {"exif_viewed": False} for item in request.items},
        }

    return enrich


def make_broken() -> Callable[[EnrichmentRequest], ReportContext]:
    def enrich(request: EnrichmentRequest) -> ReportContext:
        raise KeyError("placeholder")

    return enrich


def make_wrong_answer() -> Callable[[EnrichmentRequest], object]:
    return lambda _request: ["not", "a", "context"]


def make_bad_mapping() -> Callable[[EnrichmentRequest], dict[str, object]]:
    return lambda _request: {"internet_details": [{"type": "web_page", "urls": "one"}]}


def make_nothing() -> int:
    return 3


NOT_CALLABLE = 3
