"""Legal process: preservation requests, subpoenas, court orders, warrants, emergency and
foreign requests, tracked against their deadlines (see docs/legal.md).

The service functions here are what the CLI uses today and the law-enforcement portal will use:
they take a keyword-only ``session`` and never commit, and the ones that touch evidence take a
:class:`LegalContext` (settings, the custody key, the snapshot and paging hooks).
"""

from brightline.legal.deadlines import BusinessCalendar, Duration, Unit, escalation_points
from brightline.legal.documents import AttachmentUpload, document_type
from brightline.legal.escalation import EscalationPass, due_escalations
from brightline.legal.hooks import (
    AccountExporter,
    AccountSnapshotter,
    DurablePager,
    ExportedRecord,
    LegalContext,
    NoExport,
    NoSnapshot,
    Pager,
)
from brightline.legal.models import (
    AccountState,
    Agency,
    Channel,
    DeadlineKind,
    Escalation,
    EscalationLevel,
    FlagCode,
    IdentifierKind,
    LegalRequest,
    Officer,
    RequestStatus,
    RequestType,
)
from brightline.legal.officers import (
    add_agency,
    add_officer,
    list_agencies,
    list_officers,
    revoke_officer,
    verify_officer,
)
from brightline.legal.production_models import ExportOutcome, ProductionStatus
from brightline.legal.productions import (
    ProductionRead,
    build_production,
    deliver_production,
    get_production,
    list_productions,
    open_production_for_download,
    production_members,
)
from brightline.legal.records import Deadline, is_overdue, next_deadline, pending_deadlines
from brightline.legal.requests import (
    LegalRequestCreate,
    LegalRequestDetail,
    LegalRequestRead,
    NamedAccount,
    NamedIdentifier,
    get_request,
    list_requests,
    request_detail,
    submit_request,
)
from brightline.legal.settings import LegalSettings, RequestClock, load_legal_settings
from brightline.legal.workflow import (
    TRANSITIONS,
    add_note,
    assign_request,
    renew_preservation,
    resolve_flag,
    transition_request,
    verify_request,
)

__all__ = [
    "TRANSITIONS",
    "AccountExporter",
    "AccountSnapshotter",
    "AccountState",
    "Agency",
    "AttachmentUpload",
    "BusinessCalendar",
    "Channel",
    "Deadline",
    "DeadlineKind",
    "DurablePager",
    "Duration",
    "Escalation",
    "EscalationLevel",
    "EscalationPass",
    "ExportOutcome",
    "ExportedRecord",
    "FlagCode",
    "IdentifierKind",
    "LegalContext",
    "LegalRequest",
    "LegalRequestCreate",
    "LegalRequestDetail",
    "LegalRequestRead",
    "LegalSettings",
    "NamedAccount",
    "NamedIdentifier",
    "NoExport",
    "NoSnapshot",
    "Officer",
    "Pager",
    "ProductionRead",
    "ProductionStatus",
    "RequestClock",
    "RequestStatus",
    "RequestType",
    "Unit",
    "add_agency",
    "add_note",
    "add_officer",
    "assign_request",
    "build_production",
    "deliver_production",
    "document_type",
    "due_escalations",
    "escalation_points",
    "get_production",
    "get_request",
    "is_overdue",
    "list_agencies",
    "list_officers",
    "list_productions",
    "list_requests",
    "load_legal_settings",
    "next_deadline",
    "open_production_for_download",
    "pending_deadlines",
    "production_members",
    "renew_preservation",
    "request_detail",
    "resolve_flag",
    "revoke_officer",
    "submit_request",
    "transition_request",
    "verify_officer",
    "verify_request",
]
