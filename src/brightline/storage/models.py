"""Imports every table module so that the metadata is complete (for Alembic and tests)."""

from brightline.banks.models import Bank, BankEntry, EntryChange, VideoSignature
from brightline.storage.meta import DatabaseMeta

__all__ = ["Bank", "BankEntry", "DatabaseMeta", "EntryChange", "VideoSignature"]
