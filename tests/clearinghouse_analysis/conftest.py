"""Fixtures: placeholder reports submitted through the intake, then analysed.

Every report names placeholder people at ``example.org``, documentation IP ranges and the demo
agencies; every file is random bytes. Nothing here resembles real material, hashes included
(the digests are of the random bytes).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from brightline.accounts import service as account_service
from brightline.clearinghouse.cybertip_xml import file_details_xml, report_xml
from brightline.clearinghouse.intake import (
    attach_file,
    finish_report,
    open_report,
    record_file_details,
    register_provider,
)
from brightline.clearinghouse.model import (
    Classification,
    EstimatedLocation,
    FileAnnotation,
    IncidentType,
    IncomingReport,
    ReportedFile,
    ReportedPerson,
    Victim,
)
from brightline.clearinghouse.models import IntakeProvider
from brightline.evidence.store import EvidenceStore
from tests.clearinghouse_intake import conftest as intake_fixtures
from tests.clearinghouse_intake.conftest import PASSWORD
from tests.web import conftest as console_fixtures

# Fixtures reused as they are: the intake's (schema, vault, cheap argon2) and the console's
# (settings on the same database, one account per role, the app's test client).
schema_path = intake_fixtures.schema_path
store = intake_fixtures.store
_cheap_argon2 = intake_fixtures._cheap_argon2
settings = console_fixtures.settings
accounts = console_fixtures.accounts
client = console_fixtures.client


@pytest.fixture(autouse=True)
def _cheap_console_argon2(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Console accounts hashed with argon2's cheapest parameters here (the CI budget is
    tight); the production parameters are the library's defaults, tested in tests/web."""
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(account_service, "_hasher", cheap)
    account_service._dummy_hash.cache_clear()
    yield
    account_service._dummy_hash.cache_clear()


AS_OF = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SHARED_EMAIL = "shared.user@example.org"


@dataclass(frozen=True)
class Planted:
    """Intake report ids of the planted scenario."""

    ordinary: int
    urgent: int
    linked: int
    informational: int
    unfinished: int
    file_md5: dict[int, list[str]]

    @property
    def finished(self) -> set[int]:
        return {self.ordinary, self.urgent, self.linked, self.informational}


def _report(provider: str, **fields: object) -> IncomingReport:
    base: dict[str, object] = {
        "report_id": "1",
        "provider": provider,
        "incident_type": IncidentType.CHILD_PORNOGRAPHY,
        "incident_at": AS_OF - timedelta(days=20),
        "received_at": AS_OF - timedelta(days=19),
    }
    base.update(fields)
    return IncomingReport(**base)  # type: ignore[arg-type]


def submit(
    sessions: sessionmaker[Session],
    store: EvidenceStore,
    schema_path: Path,
    report: IncomingReport,
    *,
    finish: bool = True,
    file_bytes: bytes | None = None,
) -> tuple[int, list[str]]:
    """Submit ``report`` through the intake functions: document, each file's random bytes (or
    ``file_bytes``) and its ``<fileDetails>``, then finish. Returns the intake id and the
    files' MD5s."""
    with sessions.begin() as session:
        provider = session.scalars(
            select(IntakeProvider).where(IntakeProvider.name == report.provider)
        ).one()
        opened = open_report(
            session=session,
            provider=provider,
            document=report_xml(report),
            schema_path=schema_path,
        )
        stored = replace(report, report_id=str(opened.id))
        md5s = []
        for reported in report.files:
            received = attach_file(
                session=session,
                provider=provider,
                report_id=opened.id,
                chunks=[secrets.token_bytes(64) if file_bytes is None else file_bytes],
                store=store,
                max_bytes=10_000 if file_bytes is None else len(file_bytes),
            )
            md5s.append(received.md5)
            details = replace(reported, file_id=received.file_id, md5=received.md5)
            record_file_details(
                session=session,
                provider=provider,
                document=file_details_xml(stored, details),
                schema_path=schema_path,
            )
        if finish:
            finish_report(session=session, provider=provider, report_id=opened.id)
        return opened.id, md5s


@pytest.fixture
def planted(sessions: sessionmaker[Session], store: EvidenceStore, schema_path: Path) -> Planted:
    """Four finished reports (an ordinary one, an urgent one linked by email to a report from
    another provider, a text-only informational one) and one left unfinished."""
    with sessions.begin() as session:
        for name in ("esp-one", "esp-two"):
            register_provider(session=session, name=name, password=PASSWORD)
    texas = EstimatedLocation(country_code="US", region="TX")
    ordinary = _report(
        "esp-one",
        persons=(ReportedPerson(emails=("ordinary@example.org",), estimated_location=texas),),
        files=(ReportedFile(file_id="f1", classification=Classification.B2),),
    )
    urgent = _report(
        "esp-one",
        incident_at=AS_OF - timedelta(days=1),
        escalation="placeholder escalation text",
        persons=(
            ReportedPerson(
                emails=(SHARED_EMAIL,),
                estimated_location=EstimatedLocation(country_code="US", region="CA"),
            ),
        ),
        victims=(Victim(age=3),),
        files=(
            ReportedFile(
                file_id="f1",
                classification=Classification.A1,
                annotations=frozenset({FileAnnotation.INFANT}),
            ),
        ),
    )
    linked = _report(
        "esp-two",
        persons=(
            ReportedPerson(
                emails=(SHARED_EMAIL.upper(),),
                estimated_location=EstimatedLocation(country_code="GB"),
            ),
        ),
        files=(ReportedFile(file_id="f1"),),
    )
    informational = _report(
        "esp-two",
        incident_type=IncidentType.MISLEADING_DOMAIN_NAME,
        persons=(ReportedPerson(emails=("other@example.org",)),),
    )
    ids: dict[str, int] = {}
    md5s: dict[int, list[str]] = {}
    for name, report in (
        ("ordinary", ordinary),
        ("urgent", urgent),
        ("linked", linked),
        ("informational", informational),
    ):
        ids[name], md5s[ids[name]] = submit(sessions, store, schema_path, report)
    ids["unfinished"], _ = submit(sessions, store, schema_path, ordinary, finish=False)
    return Planted(**ids, file_md5=md5s)
