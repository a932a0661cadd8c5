"""CyberTipline reports: confirmed cases → ``<report>`` and ``<fileDetails>`` XML, stored as drafts.

The builder reads the review core (subjects, cases, items, decisions, reveals), the reporter
settings and a :class:`ReportContext` of what only the platform knows (gathered by an enricher:
:mod:`brightline.reports.enrichment`, in the JSON format of :mod:`brightline.reports.wire`); the
submission layer (``brightline.clearinghouse_client``) sends what it stored. Filing a case in one
step (check media, enrich, build, audit, queue) is :mod:`brightline.reports.filing`, imported on
its own because it uses the submission outbox. See docs/reports.md.
"""

from brightline.reports.builder import (
    REPORTED_DECISIONS,
    BuiltReport,
    IncompleteReport,
    ReportFile,
    build_report,
    load_built_report,
    prior_report_ids,
    reportable_items,
)
from brightline.reports.context import (
    AccountDisabled,
    CaptureEvent,
    CellPhoneIncident,
    ChatImIncident,
    DeviceId,
    EmailIncident,
    FileContext,
    IncidentType,
    InternetDetails,
    IpCaptureEvent,
    NewsgroupIncident,
    NonInternetIncident,
    OnlineGamingIncident,
    Party,
    PeerToPeerIncident,
    PersonDetails,
    ReportAnnotation,
    ReportContext,
    WebPageIncident,
)
from brightline.reports.enrichment import (
    EnrichmentFailed,
    EnrichmentItem,
    EnrichmentRequest,
    EnrichmentSubject,
    InvalidEnrichment,
    NoEnrichment,
    PluginEnricher,
    ReportEnricher,
    WebhookEnricher,
    enricher_from_settings,
    enrichment_request,
    load_plugin,
)
from brightline.reports.models import ACTIVE_STATUSES, Report, ReportItem, ReportStatus
from brightline.reports.report_xml import (
    file_details_for_upload,
    validate_file_details_xml,
    validate_report_xml,
)
from brightline.reports.wire import (
    ContextPatch,
    InvalidContext,
    context_to_json,
    parse_context_patch,
    read_context,
    read_context_patch,
)
from brightline.settings import ReporterSettings

__all__ = [
    "ACTIVE_STATUSES",
    "REPORTED_DECISIONS",
    "AccountDisabled",
    "BuiltReport",
    "CaptureEvent",
    "CellPhoneIncident",
    "ChatImIncident",
    "ContextPatch",
    "DeviceId",
    "EmailIncident",
    "EnrichmentFailed",
    "EnrichmentItem",
    "EnrichmentRequest",
    "EnrichmentSubject",
    "FileContext",
    "IncidentType",
    "IncompleteReport",
    "InternetDetails",
    "InvalidContext",
    "InvalidEnrichment",
    "IpCaptureEvent",
    "NewsgroupIncident",
    "NoEnrichment",
    "NonInternetIncident",
    "OnlineGamingIncident",
    "Party",
    "PeerToPeerIncident",
    "PersonDetails",
    "PluginEnricher",
    "Report",
    "ReportAnnotation",
    "ReportContext",
    "ReportEnricher",
    "ReportFile",
    "ReportItem",
    "ReportStatus",
    "ReporterSettings",
    "WebPageIncident",
    "WebhookEnricher",
    "build_report",
    "context_to_json",
    "enricher_from_settings",
    "enrichment_request",
    "file_details_for_upload",
    "load_built_report",
    "load_plugin",
    "parse_context_patch",
    "prior_report_ids",
    "read_context",
    "read_context_patch",
    "reportable_items",
    "validate_file_details_xml",
    "validate_report_xml",
]
