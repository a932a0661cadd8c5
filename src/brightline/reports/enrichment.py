"""Enrichment: asking the platform for what only it knows before a report is built.

Review knows the reported user's ids and names, the confirmed items, their digests and who
looked at what. IP addresses, device ids, where the incident happened, messages, victims and
original file names live in the platform's own systems. An enricher is handed an
:class:`EnrichmentRequest` (the case, its subject and its confirmed items) and answers a
:class:`~brightline.reports.ReportContext`:

* :class:`WebhookEnricher` POSTs the request as JSON, signed exactly like Brightline's event
  webhooks (``Brightline-Timestamp`` + ``Brightline-Signature``, HMAC-SHA256), and reads the
  JSON answer strictly (:mod:`brightline.reports.wire`);
* a plugin (``module:callable``, :func:`load_plugin`) runs in process;
* :class:`NoEnrichment` answers an empty context: the report then carries only what review
  recorded, and the builder lists what that leaves missing.

Every built-in enricher comes through :func:`enricher_from_settings`, the same path as a
third-party plugin. Failures are :class:`EnrichmentFailed` (an ``UpstreamError``): a report is
never built on a half-answered request.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

import httpx

from brightline.errors import BrightlineError, InvalidInput, UpstreamError
from brightline.events.signed_post import SignedEndpoint
from brightline.reports.context import ReportContext
from brightline.reports.wire import (
    MAX_DOCUMENT_BYTES,
    WIRE_VERSION,
    InvalidContext,
    load_json,
    read_context,
)
from brightline.review.models import Case, Item, Subject
from brightline.settings import EnrichmentSettings

log = logging.getLogger(__name__)

EVENT_TYPE = "report.enrichment"
"""The ``type`` of the request envelope and the ``Brightline-Event`` header."""


class EnrichmentFailed(UpstreamError):
    """The enrichment step (webhook or plugin) did not give a usable answer; nothing was built."""


class InvalidEnrichment(EnrichmentFailed):
    """The enrichment answer does not fit the wire format; ``path`` says where."""

    def __init__(self, message: str, path: str) -> None:
        super().__init__(message)
        self.path = path

    def __reduce__(self) -> tuple[type[InvalidEnrichment], tuple[str, str]]:
        return (InvalidEnrichment, (str(self), self.path))


def _utc(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class EnrichmentSubject:
    """The reported user as review stored them (names and URL exactly as the platform gave)."""

    subject_id: int
    service: str
    platform_user_id: str
    screen_name: str | None = None
    display_name: str | None = None
    profile_url: str | None = None


@dataclass(frozen=True, slots=True)
class EnrichmentItem:
    """One confirmed item the report will carry: ids, digests and what review decided."""

    item_id: int
    sha256: str
    media_type: str
    decision: str
    """``confirm`` or ``escalate``."""
    md5: str | None = None
    sha1: str | None = None
    media_ref: str | None = None
    """The evidence vault reference (``sha256:<hex>``)."""
    uploaded_at: datetime | None = None
    classification: str | None = None
    annotations: tuple[str, ...] = ()
    viewed_by_person: bool = False


@dataclass(frozen=True, slots=True)
class EnrichmentRequest:
    """What the enricher is told: the case, its subject and the items the report will cover.

    Items whose media is missing and that the operator chose to leave out are not listed: an
    answer about them (``files``) would be refused by the builder.
    """

    case_id: int
    subject: EnrichmentSubject
    items: tuple[EnrichmentItem, ...]
    urgent: bool = False
    requested_at: datetime | None = None

    @property
    def item_ids(self) -> tuple[int, ...]:
        return tuple(item.item_id for item in self.items)

    def to_json(self) -> dict[str, object]:
        """The request's ``data`` in the wire format (docs/reports.md)."""
        subject = self.subject
        return {
            "version": WIRE_VERSION,
            "case_id": self.case_id,
            "urgent": self.urgent,
            "subject": {
                "subject_id": subject.subject_id,
                "service": subject.service,
                "platform_user_id": subject.platform_user_id,
                "screen_name": subject.screen_name,
                "display_name": subject.display_name,
                "profile_url": subject.profile_url,
            },
            "items": [
                {
                    "item_id": item.item_id,
                    "sha256": item.sha256,
                    "md5": item.md5,
                    "sha1": item.sha1,
                    "media_type": item.media_type,
                    "media_ref": item.media_ref,
                    "uploaded_at": _utc(item.uploaded_at),
                    "decision": item.decision,
                    "classification": item.classification,
                    "annotations": list(item.annotations),
                    "viewed_by_person": item.viewed_by_person,
                }
                for item in self.items
            ],
        }


def enrichment_request(
    *, case: Case, subject: Subject, items: Sequence[Item], now: datetime | None = None
) -> EnrichmentRequest:
    """The request for ``items`` (confirmed items of ``case``) as review stored them."""
    return EnrichmentRequest(
        case_id=case.id,
        urgent=bool(case.urgent),
        requested_at=now,
        subject=EnrichmentSubject(
            subject_id=subject.id,
            service=subject.service,
            platform_user_id=subject.platform_user_id,
            screen_name=subject.screen_name,
            display_name=subject.display_name,
            profile_url=subject.profile_url,
        ),
        items=tuple(
            EnrichmentItem(
                item_id=item.id,
                sha256=item.sha256,
                media_type=item.media_type,
                decision=item.decision or "",
                md5=item.md5,
                sha1=item.sha1,
                media_ref=item.media_ref,
                uploaded_at=item.uploaded_at,
                classification=item.classification,
                annotations=tuple(filter(None, (item.annotations or "").split(","))),
                viewed_by_person=item.viewed_by_person is True,
            )
            for item in items
        ),
    )


@runtime_checkable
class ReportEnricher(Protocol):
    """Gathers what only the platform knows for one report (docs/reports.md, "Enrichment")."""

    def enrich(self, request: EnrichmentRequest) -> ReportContext:
        """The context for ``request``; raise :class:`EnrichmentFailed` when it cannot."""
        ...


class NoEnrichment:
    """No enrichment configured: an empty context (reports carry what review recorded)."""

    def enrich(self, request: EnrichmentRequest) -> ReportContext:
        return ReportContext()


class WebhookEnricher:
    """POSTs the request to the platform's enrichment endpoint and reads its JSON answer.

    The request is signed like Brightline's event webhooks, so a receiver verifies it with
    :func:`brightline.events.verify_signature`. Redirects are not followed, the answer is read
    up to 4 MiB, and nothing of either body is ever logged (:mod:`brightline.events.signed_post`).
    """

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        timeout_seconds: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._endpoint = SignedEndpoint(
            url,
            secret,
            name="enrichment",
            max_answer=MAX_DOCUMENT_BYTES,
            failure=EnrichmentFailed,
            timeout_seconds=timeout_seconds,
            key_variable="BRIGHTLINE_ENRICHMENT_SECRET",
            retry_hint="nothing was built, try again later",
            transport=transport,
            clock=clock,
        )

    def __repr__(self) -> str:
        # Never the secret, nor the URL's path (it may hold the receiver's own token).
        return f"WebhookEnricher({self._endpoint.origin})"

    def enrich(self, request: EnrichmentRequest) -> ReportContext:
        started = time.monotonic()
        request_id, answer = self._endpoint.post(
            EVENT_TYPE, request.to_json(), created_at=request.requested_at
        )
        try:
            context = read_context(
                load_json(answer, source="enrichment answer"), source="enrichment answer"
            )
        except InvalidContext as exc:
            log.warning("enrichment answer for case %d refused at %s", request.case_id, exc.path)
            raise InvalidEnrichment(
                f"{self._endpoint.where} answered something that is not a "
                f"report context: {exc.path}: {exc.problem}",
                exc.path,
            ) from None
        log.info(
            "enrichment for case %d: %d items, request %s, %.2f s",
            request.case_id,
            len(request.items),
            request_id,
            time.monotonic() - started,
        )
        return context


class PluginEnricher:
    """A plugin's enricher, checked: its answer must be a ReportContext (or a wire-format
    mapping), and an unexpected exception becomes :class:`EnrichmentFailed`."""

    def __init__(
        self, name: str, enrich: Callable[[EnrichmentRequest], ReportContext | Mapping[str, object]]
    ) -> None:
        self.name = name
        self._enrich = enrich

    def __repr__(self) -> str:
        return f"PluginEnricher({self.name!r})"

    def enrich(self, request: EnrichmentRequest) -> ReportContext:
        started = time.monotonic()
        try:
            answer = self._enrich(request)
        except BrightlineError:
            raise
        except Exception as exc:  # a plugin's own bug: one clear line, the traceback chained
            log.exception("enrichment plugin %s failed for case %d", self.name, request.case_id)
            raise EnrichmentFailed(
                f"the enrichment plugin {self.name} failed: {type(exc).__name__}"
            ) from exc
        if isinstance(answer, Mapping):
            try:
                answer = read_context(dict(answer), source=f"enrichment plugin {self.name}")
            except InvalidContext as exc:
                raise InvalidEnrichment(str(exc), exc.path) from None
        if not isinstance(answer, ReportContext):
            raise EnrichmentFailed(
                f"the enrichment plugin {self.name} returned {type(answer).__name__}, "
                "not a ReportContext"
            )
        log.info(
            "enrichment for case %d by plugin: %d items, %.2f s",
            request.case_id,
            len(request.items),
            time.monotonic() - started,
        )
        return answer


def load_plugin(spec: str) -> PluginEnricher:
    """The enricher named by ``module:callable`` (``BRIGHTLINE_ENRICHMENT_PLUGIN``).

    ``callable`` (a dotted attribute path is allowed) is called once, with no arguments, and
    returns either a :class:`ReportEnricher` (anything with ``enrich(request)``) or a plain
    callable ``request -> ReportContext``. A class that implements ``enrich`` is therefore a
    plugin as it is.
    """
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name.strip() or not attribute.strip():
        raise InvalidInput("an enrichment plugin is named 'module:callable'")
    try:
        target: object = importlib.import_module(module_name.strip())
    except ImportError as exc:
        raise InvalidInput(
            f"cannot import the enrichment plugin module {module_name.strip()!r}: "
            f"{type(exc).__name__}"
        ) from None
    for part in attribute.strip().split("."):
        if not hasattr(target, part):
            raise InvalidInput(f"the enrichment plugin {spec!r} does not exist")
        target = getattr(target, part)
    if not callable(target):
        raise InvalidInput(f"the enrichment plugin {spec!r} is not callable")
    made = target()
    if isinstance(made, ReportEnricher):
        return PluginEnricher(spec, made.enrich)
    if callable(made):
        return PluginEnricher(spec, made)
    raise InvalidInput(
        f"the enrichment plugin {spec!r} returned {type(made).__name__}: neither an enricher "
        "(with enrich(request)) nor a callable"
    )


def enricher_from_settings(settings: EnrichmentSettings) -> ReportEnricher:
    """The configured enricher: webhook (``BRIGHTLINE_ENRICHMENT_URL``), plugin
    (``BRIGHTLINE_ENRICHMENT_PLUGIN``) or none."""
    if settings.url is not None and settings.plugin is not None:
        raise InvalidInput("configure an enrichment URL or a plugin, not both")
    if settings.url is not None:
        if not settings.secret:
            raise InvalidInput("BRIGHTLINE_ENRICHMENT_URL needs BRIGHTLINE_ENRICHMENT_SECRET")
        return WebhookEnricher(
            settings.url, settings.secret, timeout_seconds=settings.timeout_seconds
        )
    if settings.plugin is not None:
        return load_plugin(settings.plugin)
    return NoEnrichment()
