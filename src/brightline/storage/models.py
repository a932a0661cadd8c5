"""Imports every table module so that the metadata is complete (for Alembic and tests)."""

import brightline.accounts.models  # registers the console account tables
import brightline.clearinghouse.analysis_models  # registers the stored analysis tables
import brightline.clearinghouse.models  # registers the clearinghouse intake tables
import brightline.clearinghouse_client.models  # registers the submission outbox tables
import brightline.custody.models  # registers the chain of custody table
import brightline.evidence.models  # registers the preservation and legal hold tables
import brightline.legal.models  # registers the legal-process tables
import brightline.legal.portal_models  # registers the law-enforcement portal tables
import brightline.legal.production_models  # registers the legal production tables
import brightline.reports.models  # registers the report tables
import brightline.review.models  # registers the review tables
import brightline.text.models  # noqa: F401  (registers the text term bank tables)
from brightline.access.models import ApiKey
from brightline.banks.models import Bank, BankEntry, EntryChange, VideoSignature
from brightline.events.models import EntryMatchCount, EntryQuarantine, Webhook, WebhookDelivery
from brightline.matchlog.models import MatchEvent
from brightline.storage.meta import DatabaseMeta

__all__ = [
    "ApiKey",
    "Bank",
    "BankEntry",
    "DatabaseMeta",
    "EntryChange",
    "EntryMatchCount",
    "EntryQuarantine",
    "MatchEvent",
    "VideoSignature",
    "Webhook",
    "WebhookDelivery",
]
