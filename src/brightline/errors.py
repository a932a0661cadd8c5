"""One exception hierarchy for the whole package.

Adapters map these once: the CLI to a one-line message and an exit code, the HTTP API (later) to a
4xx/5xx JSON body. Core code raises them and never returns sentinel values for failure.
"""

from __future__ import annotations


class BrightlineError(Exception):
    """Base class: every error the core raises on purpose."""


class InvalidInput(BrightlineError):
    """The caller gave something malformed (a bad hash, an unknown option, a bad record)."""


class NotFound(BrightlineError):
    """A named thing (bank, entry, signal type) does not exist."""


class Conflict(BrightlineError):
    """The request clashes with what is stored (e.g. a bank name already in use)."""


class UnsupportedContent(BrightlineError):
    """The content is of a kind no registered signal type can hash (e.g. a PDF for PDQ)."""


class Unhashable(BrightlineError):
    """The content looked hashable but could not be hashed: truncated, corrupt, too large.

    ``reason`` is a short stable code (``"truncated"``, ``"too_many_pixels"``, ...) so that scan
    output can be grouped and counted without parsing messages.
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail

    def __reduce__(self) -> tuple[type[Unhashable], tuple[str, str]]:
        # Scan workers send results between processes; keep both fields when pickled for IPC.
        return (Unhashable, (self.reason, self.detail))


class ImportFailed(InvalidInput):
    """A hash-list import hit a malformed record; nothing from that import was stored."""

    def __init__(self, source: str, line: int, reason: str) -> None:
        super().__init__(f"{source}:{line}: {reason}")
        self.source = source
        self.line = line
        self.reason = reason

    def __reduce__(self) -> tuple[type[ImportFailed], tuple[str, int, str]]:
        return (ImportFailed, (self.source, self.line, self.reason))


class StorageError(BrightlineError):
    """The database or the data directory cannot be used (unreachable, wrong schema, no space)."""


class UpstreamError(BrightlineError):
    """Something outside Brightline failed (a remote list, a webhook target)."""


class FetchFailed(UpstreamError):
    """The URL a client gave could not be fetched: unreachable, too slow, or an HTTP error.

    A subclass of :class:`UpstreamError` (something outside Brightline failed), but the service
    answers it with 422, not 502: the URL is the client's input, and the failure says nothing
    about the health of Brightline or of anything it depends on.
    """


class EvidenceUnreadable(StorageError):
    """An evidence object cannot be decrypted and verified: tampered with, truncated, reordered,
    or sealed under a key this vault does not hold. Never answered with partial or unverified
    bytes: evidence that cannot be proven intact is worthless and possibly misleading."""
