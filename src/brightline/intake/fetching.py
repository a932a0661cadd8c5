"""Fetch a URL to a file without letting the fetch reach internal networks (SSRF-safe).

PLACEHOLDER: the interface is fixed; the implementation is being written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from brightline.errors import UpstreamError
from brightline.settings import Settings


@dataclass(frozen=True, slots=True)
class FetchLimits:
    max_bytes: int
    timeout_seconds: float
    allow_networks: tuple[str, ...] = ()
    max_redirects: int = 5

    @classmethod
    def from_settings(cls, settings: Settings) -> FetchLimits:
        return cls(
            max_bytes=settings.service.max_upload_bytes,
            timeout_seconds=settings.service.fetch_timeout_seconds,
            allow_networks=settings.service.fetch_allow_networks,
        )


def fetch_to_file(url: str, *, directory: Path, limits: FetchLimits) -> Path:  # noqa: ARG001
    raise UpstreamError("URL fetching is not available yet")
