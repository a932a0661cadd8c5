"""Fixtures: the lifecycle server, an evidence store, and built reports with synthetic files.

The files are random bytes and the report documents name placeholder people and addresses
(``example.org``): nothing here resembles real material.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from brightline.clearinghouse_client.client import CyberTiplineClient
from brightline.evidence.store import EvidenceStore
from brightline.reports.models import Report, ReportItem
from brightline.review.models import Case, Item, Job, Queue, Subject
from tests.clearinghouse_client.lifecycle_server import PASSWORD, USERNAME, ServerState, serve

REPO = Path(__file__).resolve().parents[2]
SCHEMA_CANDIDATES = (
    REPO.parent / "shared" / "reference" / "cybertipline" / "cyber_tipline.xsd",
    REPO / "src" / "brightline" / "reports" / "schema" / "cyber_tipline.xsd",
)

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

VALID_REPORT = (
    "<report><incidentSummary><incidentType>Child Pornography (possession, manufacture, and "
    "distribution)</incidentType><incidentDateTime>2026-11-30T10:00:00Z</incidentDateTime>"
    "</incidentSummary><reporter><reportingPerson><email>trust-safety@example.org</email>"
    "</reportingPerson></reporter></report>"
)
INVALID_REPORT = (
    "<report><incidentSummary><incidentType>Not A Known Type</incidentType>"
    "<incidentDateTime>2026-11-30T10:00:00Z</incidentDateTime></incidentSummary>"
    "<reporter><reportingPerson><email>trust-safety@example.org</email></reportingPerson>"
    "</reporter></report>"
)


def _schema_path() -> Path:
    for candidate in SCHEMA_CANDIDATES:
        if candidate.is_file():
            return candidate
    if os.environ.get("CI") == "true":
        pytest.fail("the CyberTipline schema is required in CI but was not found")
    pytest.skip("the CyberTipline schema was not found: lifecycle tests skipped")


@pytest.fixture
def lifecycle() -> Iterator[tuple[str, ServerState]]:
    with serve(_schema_path()) as (url, state):
        yield url, state


@pytest.fixture
def server(lifecycle: tuple[str, ServerState]) -> ServerState:
    return lifecycle[1]


@pytest.fixture
def client(lifecycle: tuple[str, ServerState]) -> Iterator[CyberTiplineClient]:
    with CyberTiplineClient(lifecycle[0], USERNAME, PASSWORD, timeout=10) as made:
        yield made


@pytest.fixture
def store(tmp_path: Path) -> EvidenceStore:
    return EvidenceStore(tmp_path / "evidence", secrets.token_bytes(32), chunk_size=4096)


@dataclass(frozen=True)
class BuiltFixture:
    report_id: int
    case_id: int
    md5s: tuple[str, ...]


def make_report(
    session: Session,
    store: EvidenceStore,
    *,
    files: int = 2,
    xml: str = VALID_REPORT,
    size: int = 10_000,
) -> BuiltFixture:
    """A draft report with ``files`` random-byte files in the vault (commits nothing)."""
    tag = uuid.uuid4().hex[:12]
    subject = Subject(service="example", platform_user_id=f"user-{tag}")
    queue = Queue(name=f"queue-{tag}")
    session.add_all([subject, queue])
    session.flush()
    case = Case(subject_id=subject.id)
    job = Job(queue_id=queue.id)
    session.add_all([case, job])
    session.flush()
    report = Report(
        subject_id=subject.id,
        case_id=case.id,
        status="draft",
        incident_type="Child Pornography (possession, manufacture, and distribution)",
        built_at=T0,
        xml=xml,
    )
    session.add(report)
    session.flush()
    md5s = []
    for _ in range(files):
        data = os.urandom(size)
        ref = store.put(data)
        md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
        sha1 = hashlib.sha1(data, usedforsecurity=False).hexdigest()
        item = Item(
            case_id=case.id,
            job_id=job.id,
            sha256=hashlib.sha256(data).hexdigest(),
            md5=md5,
            sha1=sha1,
            media_type="application/octet-stream",
            media_ref=ref,
            source="test",
        )
        session.add(item)
        session.flush()
        details = (
            "<fileDetails><fileViewedByEsp>false</fileViewedByEsp>"
            f'<originalFileHash hashType="MD5">{md5}</originalFileHash></fileDetails>'
        )
        session.add(
            ReportItem(
                report_id=report.id,
                item_id=item.id,
                file_details_xml=details,
                media_ref=ref,
                md5=md5,
                sha1=sha1,
            )
        )
        md5s.append(md5)
    session.flush()
    return BuiltFixture(report_id=report.id, case_id=case.id, md5s=tuple(md5s))
