"""The intake's service layer, without HTTP: providers, the report lifecycle, expiry.

Each test runs on SQLite and on PostgreSQL; refusals are checked to leave nothing stored.
"""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from brightline.clearinghouse.intake import (
    AlreadyFinished,
    AlreadyRetracted,
    InvalidRequest,
    NoSuchFile,
    NoSuchReport,
    ProviderRefused,
    ResponseCode,
    ValidationFailed,
    attach_file,
    authenticate_provider,
    expire_unfinished,
    finish_report,
    open_report,
    parse_untrusted_xml,
    record_file_details,
    register_provider,
    report_files,
    response_code_for,
    retract_report,
)
from brightline.clearinghouse.models import IntakeFile, IntakeProvider, IntakeReport
from brightline.errors import Conflict, InvalidInput
from brightline.evidence.store import EvidenceStore
from brightline.reports import report_xml
from tests.clearinghouse_intake.conftest import (
    INVALID_REPORT,
    OTHER_PROVIDER,
    PASSWORD,
    PROVIDER,
    VALID_REPORT,
    file_details,
)

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE report [<!ENTITY a "aaaaaaaaaa">'
    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
    b"]><report>&c;&c;&c;&c;</report>"
)


def _provider(session: Session, name: str = PROVIDER) -> IntakeProvider:
    found = session.scalar(select(IntakeProvider).where(IntakeProvider.name == name))
    assert found is not None
    return found


def _count(session: Session, table: type[IntakeReport] | type[IntakeFile]) -> int:
    return int(session.scalar(select(func.count()).select_from(table)) or 0)


def test_a_provider_is_stored_with_an_argon2_hash_and_authenticates(
    sessions: sessionmaker[Session], providers: dict[str, int]
) -> None:
    with sessions.begin() as session:
        provider = authenticate_provider(session=session, name=" ESP-Example ", password=PASSWORD)
        assert provider.id == providers[PROVIDER]
        assert provider.password_hash.startswith("$argon2id$")
        assert PASSWORD not in provider.password_hash


def test_wrong_credentials_and_disabled_providers_are_refused_alike(
    sessions: sessionmaker[Session], providers: dict[str, int]
) -> None:
    attempts = [(PROVIDER, "wrong password 123"), ("nobody-here", PASSWORD), ("bad\x00", PASSWORD)]
    with sessions.begin() as session:
        for name, password in attempts:
            with pytest.raises(ProviderRefused) as refused:
                authenticate_provider(session=session, name=name, password=password)
            assert response_code_for(refused.value) == ResponseCode.AUTHENTICATION_REQUIRED
        _provider(session, OTHER_PROVIDER).disabled_at = T0
        with pytest.raises(ProviderRefused):
            authenticate_provider(session=session, name=OTHER_PROVIDER, password=PASSWORD)


def test_registering_refuses_duplicates_short_passwords_and_bad_names(
    sessions: sessionmaker[Session], providers: dict[str, int]
) -> None:
    with sessions.begin() as session:
        with pytest.raises(Conflict):
            register_provider(session=session, name=PROVIDER.upper(), password=PASSWORD)
        with pytest.raises(InvalidInput, match="12"):
            register_provider(session=session, name="esp-new", password="short")  # noqa: S106
        with pytest.raises(InvalidInput, match="provider name"):
            register_provider(session=session, name="no spaces", password=PASSWORD)


def test_the_whole_lifecycle_stores_the_report_and_its_file(
    sessions: sessionmaker[Session],
    providers: dict[str, int],
    store: EvidenceStore,
    schema_path: Path,
) -> None:
    data = os.urandom(10_000)
    with sessions.begin() as session:
        provider = _provider(session)
        report = open_report(
            session=session, provider=provider, document=VALID_REPORT, schema_path=schema_path
        )
        received = attach_file(
            session=session,
            provider=provider,
            report_id=str(report.id),
            chunks=[data[:3000], data[3000:]],
            store=store,
            max_bytes=20_000,
        )
        md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
        assert received.md5 == md5
        assert received.sha1 == hashlib.sha1(data, usedforsecurity=False).hexdigest()
        record_file_details(
            session=session,
            provider=provider,
            document=file_details(report.id, received.file_id, md5),
            schema_path=schema_path,
        )
        finish_report(session=session, provider=provider, report_id=report.id)
        report_id = report.id
    with sessions() as session:
        stored = session.get(IntakeReport, report_id)
        assert stored is not None
        assert stored.status == "finished"
        assert stored.finished_at is not None
        assert "trust-safety@example.org" in stored.document
        (one,) = report_files(session=session, report_id=report_id)
        assert one.size == len(data)
        assert one.details is not None
        assert "<fileViewedByEsp>false</fileViewedByEsp>" in one.details
        assert store.read(one.vault_ref) == data


def test_report_ids_come_from_the_clearinghouse_sequence(
    sessions: sessionmaker[Session], providers: dict[str, int], schema_path: Path
) -> None:
    with sessions.begin() as session:
        ids = [
            open_report(
                session=session,
                provider=_provider(session, name),
                document=VALID_REPORT,
                schema_path=schema_path,
            ).id
            for name in (PROVIDER, OTHER_PROVIDER, PROVIDER)
        ]
    assert ids == sorted(ids)
    assert len(set(ids)) == 3


def test_a_schema_invalid_report_names_the_failing_element_and_stores_nothing(
    sessions: sessionmaker[Session], providers: dict[str, int], schema_path: Path
) -> None:
    with sessions.begin() as session:
        with pytest.raises(ValidationFailed) as failed:
            open_report(
                session=session,
                provider=_provider(session),
                document=INVALID_REPORT,
                schema_path=schema_path,
            )
        assert "incidentType" in str(failed.value)
        assert "Not A Known" not in str(failed.value)  # element named, value never echoed
        assert response_code_for(failed.value) == ResponseCode.VALIDATION_FAILED
        assert _count(session, IntakeReport) == 0


@pytest.mark.parametrize(
    "document",
    [
        b"<report><incidentSummary>",
        b"",
        b'<!DOCTYPE report [<!ENTITY x SYSTEM "file:///etc/hostname">]><report>&x;</report>',
        BILLION_LAUGHS,
        b'<!DOCTYPE report SYSTEM "http://127.0.0.1:9/report.dtd"><report/>',
        b"<report>" + b" " * (4 * 1024 * 1024) + b"</report>",
        b"<fileDetails/>",
    ],
    ids=[
        "malformed",
        "empty",
        "external-entity",
        "billion-laughs",
        "external-dtd",
        "too-large",
        "wrong-root",
    ],
)
def test_hostile_or_malformed_documents_are_refused_before_use(document: bytes) -> None:
    with pytest.raises(InvalidRequest) as refused:
        parse_untrusted_xml(document, root_tag="report")
    assert response_code_for(refused.value) == ResponseCode.INVALID_REQUEST


def test_a_refused_document_stores_nothing(
    sessions: sessionmaker[Session], providers: dict[str, int], schema_path: Path
) -> None:
    with sessions.begin() as session:
        with pytest.raises(InvalidRequest, match="DTD"):
            open_report(
                session=session,
                provider=_provider(session),
                document=BILLION_LAUGHS,
                schema_path=schema_path,
            )
        assert _count(session, IntakeReport) == 0


def test_uploads_to_unknown_finished_retracted_or_foreign_reports_are_refused(
    sessions: sessionmaker[Session],
    providers: dict[str, int],
    store: EvidenceStore,
    schema_path: Path,
) -> None:
    with sessions.begin() as session:
        provider = _provider(session)
        finished, retracted = (
            open_report(
                session=session, provider=provider, document=VALID_REPORT, schema_path=schema_path
            ).id
            for _ in range(2)
        )
        finish_report(session=session, provider=provider, report_id=finished)
        retract_report(session=session, provider=provider, report_id=retracted)
        other = _provider(session, OTHER_PROVIDER)
        cases: list[tuple[IntakeProvider, object, type[Exception]]] = [
            (provider, 999_999, NoSuchReport),
            (provider, "not-a-number", InvalidRequest),
            (provider, finished, AlreadyFinished),
            (provider, retracted, AlreadyRetracted),
            (other, finished, NoSuchReport),  # another provider's report is not shown to exist
        ]
        for who, report_id, error in cases:
            with pytest.raises(error):
                attach_file(
                    session=session,
                    provider=who,
                    report_id=str(report_id),
                    chunks=[b"never read"],
                    store=store,
                    max_bytes=1000,
                )
        assert _count(session, IntakeFile) == 0
    assert list(store.refs()) == []


def test_an_upload_over_the_cap_is_refused_and_nothing_is_stored(
    sessions: sessionmaker[Session],
    providers: dict[str, int],
    store: EvidenceStore,
    schema_path: Path,
) -> None:
    with sessions.begin() as session:
        provider = _provider(session)
        report = open_report(
            session=session, provider=provider, document=VALID_REPORT, schema_path=schema_path
        )
        with pytest.raises(InvalidRequest, match="larger"):
            attach_file(
                session=session,
                provider=provider,
                report_id=report.id,
                chunks=[b"x" * 600, b"x" * 600],
                store=store,
                max_bytes=1000,
            )
    assert list(store.refs()) == []


def test_file_details_for_an_unknown_file_or_invalid_details_are_refused(
    sessions: sessionmaker[Session], providers: dict[str, int], schema_path: Path
) -> None:
    with sessions.begin() as session:
        provider = _provider(session)
        report = open_report(
            session=session, provider=provider, document=VALID_REPORT, schema_path=schema_path
        )
        with pytest.raises(NoSuchFile):
            record_file_details(
                session=session,
                provider=provider,
                document=file_details(report.id, "f" * 32, "0" * 32),
                schema_path=schema_path,
            )
        invalid = file_details(report.id, "f" * 32, "0" * 32).replace(b"false", b"perhaps")
        with pytest.raises(ValidationFailed, match="fileViewedByEsp"):
            record_file_details(
                session=session, provider=provider, document=invalid, schema_path=schema_path
            )


def test_finish_twice_and_retract_then_finish_answer_their_codes(
    sessions: sessionmaker[Session], providers: dict[str, int], schema_path: Path
) -> None:
    with sessions.begin() as session:
        provider = _provider(session)
        first, second = (
            open_report(
                session=session, provider=provider, document=VALID_REPORT, schema_path=schema_path
            ).id
            for _ in range(2)
        )
        finish_report(session=session, provider=provider, report_id=first)  # no files: fine
        with pytest.raises(AlreadyFinished) as again:
            finish_report(session=session, provider=provider, report_id=first)
        assert response_code_for(again.value) == ResponseCode.ALREADY_FINISHED
        with pytest.raises(AlreadyFinished):
            retract_report(session=session, provider=provider, report_id=first)
        retract_report(session=session, provider=provider, report_id=second)
        with pytest.raises(AlreadyRetracted) as retracted:
            finish_report(session=session, provider=provider, report_id=second)
        assert response_code_for(retracted.value) == ResponseCode.ALREADY_RETRACTED


def test_unfinished_reports_expire_after_the_configured_time(
    sessions: sessionmaker[Session], providers: dict[str, int], schema_path: Path
) -> None:
    with sessions.begin() as session:
        provider = _provider(session)
        old, recent, done = (
            open_report(
                session=session,
                provider=provider,
                document=VALID_REPORT,
                schema_path=schema_path,
                now=when,
            ).id
            for when in (T0, T0 + timedelta(hours=5), T0)
        )
        finish_report(session=session, provider=provider, report_id=done)
    with sessions.begin() as session:
        count = expire_unfinished(
            session=session, older_than=timedelta(hours=2), now=T0 + timedelta(hours=6)
        )
        assert count == 1
    with sessions.begin() as session:
        statuses = {
            report_id: session.get(IntakeReport, report_id).status  # type: ignore[union-attr]
            for report_id in (old, recent, done)
        }
        assert statuses == {old: "expired", recent: "open", done: "finished"}
        with pytest.raises(NoSuchReport):
            finish_report(session=session, provider=_provider(session), report_id=old)
        with pytest.raises(InvalidInput):
            expire_unfinished(session=session, older_than=timedelta(0))


def test_the_schema_is_loaded_and_used_under_one_lock(
    schema_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """libxml2 must not parse schemas on two threads at once: two first requests (or two bulk
    import threads) racing to load the XSD once broke its built-in types for the process."""
    held: list[bool] = []
    load = report_xml._load_schema

    def watched(path: str, modified_ns: int) -> Any:
        held.append(report_xml._schema_lock.locked())
        return load(path, modified_ns)

    monkeypatch.setattr(report_xml, "_load_schema", watched)
    report_xml.validate_report_xml(VALID_REPORT, schema_path)
    with pytest.raises(InvalidInput, match="incidentType"):
        report_xml.validate_report_xml(INVALID_REPORT, schema_path)
    assert held == [True, True]
