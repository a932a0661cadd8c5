"""Small factories for clearinghouse tests. Every value is a synthetic placeholder."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from brightline.clearinghouse import (
    IncidentType,
    IncomingReport,
    ReportedFile,
    ReportedPerson,
)

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def digests(seed: object) -> dict[str, str]:
    """md5 and sha1 of a seed: random-looking, meaningless."""
    data = f"clearinghouse-test-{seed}".encode()
    return {
        "md5": hashlib.md5(data, usedforsecurity=False).hexdigest(),
        "sha1": hashlib.sha1(data, usedforsecurity=False).hexdigest(),
    }


def pdq_of(seed: object) -> str:
    return hashlib.sha256(f"pdq-{seed}".encode()).hexdigest()


def flip(hex_hash: str, bits: list[int]) -> str:
    value = int(hex_hash, 16)
    for bit in bits:
        value ^= 1 << bit
    return f"{value:064x}"


def file(file_id: str = "f1", seed: object = None, **fields: Any) -> ReportedFile:
    base: dict[str, Any] = digests(seed if seed is not None else file_id)
    base.update(fields)
    return ReportedFile(file_id=file_id, **base)


def person(**fields: Any) -> ReportedPerson:
    return ReportedPerson(**fields)


def report(
    report_id: str | int,
    *,
    provider: str = "provider-01",
    incident_type: IncidentType = IncidentType.CHILD_PORNOGRAPHY,
    incident_at: datetime | None = None,
    persons: tuple[ReportedPerson, ...] | None = None,
    **fields: Any,
) -> IncomingReport:
    return IncomingReport(
        report_id=str(report_id),
        provider=provider,
        incident_type=incident_type,
        incident_at=incident_at or NOW - timedelta(days=5),
        received_at=NOW - timedelta(days=1),
        persons=persons if persons is not None else (person(esp_identifier=f"user-{report_id}"),),
        **fields,
    )
