"""Factories for report tests: synthetic content, reviewer actions and the reference schema.

Every value is a placeholder (``user-1``, ``example.org``, digests of a seed): no real names,
addresses or material.
"""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy.orm import Session

from brightline.reports import ReportContext, ReporterSettings, WebPageIncident
from brightline.review import (
    ContentFacts,
    DecisionKind,
    Flagged,
    SubjectRef,
    claim_job,
    decide,
    flag_content,
)

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
UPLOADED = NOW - timedelta(days=2)

SCHEMA = (
    Path(__file__).resolve().parents[2] / ".." / "shared/reference/cybertipline/cyber_tipline.xsd"
).resolve()
"""The reference copy of the CyberTipline XSD (not shipped with Brightline; see docs)."""

REPORTER = ReporterSettings(
    company_name="Example Platform Inc.",
    contact_first_name="Placeholder",
    contact_last_name="Contact",
    contact_email="reports@example.org",
    contact_phone="+1 555 0100",
    company_template="Legal process: legal@example.org. Data is kept for one year.",
    terms_of_service_url="https://example.org/terms",
    legal_url="https://example.org/law-enforcement",
    esp_service_name="Example Service",
)

CONTEXT = ReportContext(internet_details=(WebPageIncident(urls=("https://example.org/p/1",)),))


def schema_path() -> Path:
    """The reference XSD; its absence fails under CI and skips (visibly) elsewhere."""
    if not SCHEMA.is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"the CyberTipline reference schema is required in CI: {SCHEMA}")
        pytest.skip(f"WARNING: CyberTipline reference schema not found at {SCHEMA}")
    return SCHEMA


def user(n: int, service: str = "example-service") -> SubjectRef:
    return SubjectRef(
        service=service,
        platform_user_id=f"user-{n:04d}",
        screen_name=f"placeholder{n}",
        display_name=f"Placeholder {n}",
        profile_url=f"https://example.org/u/user-{n:04d}",
    )


def content(
    seed: int,
    *,
    uploaded_at: datetime | None = UPLOADED,
    sha1: bool = True,
    media_ref: bool = True,
    pdq: str | None = None,
) -> ContentFacts:
    """A synthetic file's facts: digests of a seed (random-looking, meaningless)."""
    data = f"synthetic-{seed}".encode()
    return ContentFacts(
        sha256=hashlib.sha256(data).hexdigest(),
        md5=hashlib.md5(data, usedforsecurity=False).hexdigest(),
        sha1=hashlib.sha1(data, usedforsecurity=False).hexdigest() if sha1 else None,
        pdq=pdq,
        media_type="image/jpeg",
        media_ref=f"evidence://test/{seed}" if media_ref else None,
        uploaded_at=uploaded_at,
    )


def flag(session: Session, who: int, seed: int, **facts: object) -> Flagged:
    return flag_content(
        session=session,
        subject=user(who),
        content=content(seed, **facts),  # type: ignore[arg-type]
        matches=[],
        source="upload",
        now=NOW,
    )


_keys = iter(range(1, 1_000_000))


def settle(
    session: Session,
    job_id: int,
    kind: DecisionKind = DecisionKind.CONFIRM,
    *,
    classification: str | None = "A2",
    annotations: tuple[str, ...] = (),
    reason: str | None = None,
    reviewer: str = "reviewer-a",
) -> None:
    """Claim ``job_id`` and decide it as ``reviewer``."""
    claim = claim_job(session=session, job_id=job_id, reviewer=reviewer, now=NOW)
    final_kinds = {DecisionKind.CONFIRM, DecisionKind.ESCALATE}
    decide(
        session=session,
        job_id=job_id,
        reviewer=reviewer,
        lock_token=claim.token,
        kind=kind,
        idempotency_key=f"test-{next(_keys)}",
        classification=classification if kind in final_kinds else None,
        annotations=annotations if kind in final_kinds else (),
        reason=reason,
        now=NOW,
    )


def parse(document: bytes) -> etree._Element:
    return etree.fromstring(document, etree.XMLParser(resolve_entities=False, no_network=True))


def texts(root: etree._Element, path: str) -> list[str]:
    return [element.text or "" for element in root.iterfind(path)]
