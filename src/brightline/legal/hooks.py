"""Extension points of the legal-process service, and what it needs to run.

- :class:`AccountSnapshotter`: asks the platform to copy an account's data into the vault when a
  preservation request is verified (a signed webhook or a plugin can implement it later; the
  default does nothing and says so in the request's history).
- :class:`AccountExporter`: asks the platform for an account's data (profile, messages,
  uploads) when a production is built; what it returns is sealed into the production package
  (the default exports nothing, and the production says ``not_configured`` and is partial).
- :class:`Pager`: tells the on-call role about an emergency request (the page is always recorded
  in the request's history; without a pager nothing leaves Brightline). A
  :class:`DurablePager` is handed the request's session instead, so that the page is queued in
  the same transaction (the events outbox) and survives a crash.

Implementations as a signed webhook or a ``module:callable`` plugin, and their settings, are in
:mod:`brightline.legal.platform_hooks`.

A hook that fails never undoes the preservation it accompanies: the failure is recorded and
flagged for staff, and the legal holds stay placed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from sqlalchemy.orm import Session

from brightline.errors import InvalidInput
from brightline.legal.settings import LegalSettings

EXPORT_MEDIA_TYPES = {
    "application/json": "json",
    "text/csv": "csv",
    "text/plain": "txt",
    "application/octet-stream": "bin",
}
"""What an export record may be, and the file extension it gets in a production package."""
_KIND = re.compile(r"[a-z0-9_]{1,40}")


class AccountSnapshotter(Protocol):
    """Asks the platform to preserve one account's data (profile, messages, uploads)."""

    def snapshot(self, *, request_id: int, service: str, platform_user_id: str) -> str | None:
        """Start a snapshot; return the platform's ticket id, or None if it gives none."""
        ...


@dataclass(frozen=True, slots=True)
class ExportedRecord:
    """One piece of an account's data from the platform: ``kind`` is a short code
    (``profile``, ``messages``, ``logins``), never a file name."""

    kind: str
    media_type: str
    data: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.kind, str) or not _KIND.fullmatch(self.kind):
            raise InvalidInput("an export record's kind is 1 to 40 of a-z, 0-9 and '_'")
        if self.media_type not in EXPORT_MEDIA_TYPES:
            listed = ", ".join(sorted(EXPORT_MEDIA_TYPES))
            raise InvalidInput(f"an export record's media type is one of {listed}")
        if not isinstance(self.data, bytes):
            raise InvalidInput("an export record's data is bytes")

    @property
    def extension(self) -> str:
        return EXPORT_MEDIA_TYPES[self.media_type]


class AccountExporter(Protocol):
    """Returns one account's data from the platform for a production (may be empty)."""

    def export(
        self, *, request_id: int, service: str, platform_user_id: str
    ) -> Sequence[ExportedRecord]: ...


class Pager(Protocol):
    """Pages a role (``on-call``) about a request; ``message`` holds ids and times, no text."""

    def page(self, *, role: str, request_id: int, message: str) -> None: ...


@runtime_checkable
class DurablePager(Protocol):
    """A pager that queues the page in the caller's transaction (so it is sent if and only if
    what it is about commits, and a crash after the commit loses nothing)."""

    def page_in(
        self, *, session: Session, role: str, request_id: int, message: str, at: datetime
    ) -> None: ...


class NoSnapshot:
    """The default: no platform snapshot is configured (recorded as ``configured: false``)."""

    configured = False

    def snapshot(self, *, request_id: int, service: str, platform_user_id: str) -> str | None:
        return None


class NoExport:
    """The default: no platform export is configured; productions hold vault evidence only and
    are recorded as ``not_configured`` (so partial)."""

    configured = False

    def export(
        self, *, request_id: int, service: str, platform_user_id: str
    ) -> Sequence[ExportedRecord]:
        return ()


@dataclass(frozen=True, slots=True)
class LegalContext:
    """What the legal-process services need besides a session: settings, keys and hooks."""

    settings: LegalSettings
    custody_key: bytes = field(repr=False)
    snapshotter: AccountSnapshotter = field(default_factory=NoSnapshot)
    pager: Pager | DurablePager | None = None
    exporter: AccountExporter = field(default_factory=NoExport)
