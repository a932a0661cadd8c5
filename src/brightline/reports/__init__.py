"""CyberTipline reports: confirmed cases → ``<report>`` and ``<fileDetails>`` XML, stored as drafts.

The builder reads the review core (subjects, cases, items, decisions, reveals), the reporter
settings and a :class:`ReportContext` of what only the platform knows; the submission layer
(``brightline.clearinghouse_client``) sends what it stored. See docs/reports.md.
"""

from brightline.reports.builder import (
    REPORTED_DECISIONS,
    BuiltReport,
    IncompleteReport,
    ReportFile,
    build_report,
    load_built_report,
    prior_report_ids,
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
from brightline.reports.models import ACTIVE_STATUSES, Report, ReportItem, ReportStatus
from brightline.reports.report_xml import (
    file_details_for_upload,
    validate_file_details_xml,
    validate_report_xml,
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
    "DeviceId",
    "EmailIncident",
    "FileContext",
    "IncidentType",
    "IncompleteReport",
    "InternetDetails",
    "IpCaptureEvent",
    "NewsgroupIncident",
    "NonInternetIncident",
    "OnlineGamingIncident",
    "Party",
    "PeerToPeerIncident",
    "PersonDetails",
    "Report",
    "ReportAnnotation",
    "ReportContext",
    "ReportFile",
    "ReportItem",
    "ReportStatus",
    "ReporterSettings",
    "WebPageIncident",
    "build_report",
    "file_details_for_upload",
    "load_built_report",
    "prior_report_ids",
    "validate_file_details_xml",
    "validate_report_xml",
]
