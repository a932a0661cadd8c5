"""Extension points of the legal-process service, and what it needs to run.

- :class:`AccountSnapshotter`: asks the platform to copy an account's data into the vault when a
  preservation request is verified (a signed webhook or a plugin can implement it later; the
  default does nothing and says so in the request's history).
- :class:`Pager`: tells the on-call role about an emergency request (the page is always recorded
  in the request's history; without a pager nothing leaves Brightline).

A hook that fails never undoes the preservation it accompanies: the failure is recorded and
flagged for staff, and the legal holds stay placed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from brightline.legal.settings import LegalSettings


class AccountSnapshotter(Protocol):
    """Asks the platform to preserve one account's data (profile, messages, uploads)."""

    def snapshot(self, *, request_id: int, service: str, platform_user_id: str) -> str | None:
        """Start a snapshot; return the platform's ticket id, or None if it gives none."""
        ...


class Pager(Protocol):
    """Pages a role (``on-call``) about a request; ``message`` holds ids and times, no text."""

    def page(self, *, role: str, request_id: int, message: str) -> None: ...


class NoSnapshot:
    """The default: no platform snapshot is configured (recorded as ``configured: false``)."""

    configured = False

    def snapshot(self, *, request_id: int, service: str, platform_user_id: str) -> str | None:
        return None


@dataclass(frozen=True, slots=True)
class LegalContext:
    """What the legal-process services need besides a session: settings, keys and hooks."""

    settings: LegalSettings
    custody_key: bytes = field(repr=False)
    snapshotter: AccountSnapshotter = field(default_factory=NoSnapshot)
    pager: Pager | None = None
